import type { CardChild, CardNode } from './layout-api.ts';

// The same element tree as HTML/CSS, for the Chromium peer in bench/cards.ts
// (and for eyeballing a layout in a browser). Satori's defaults are made
// explicit: every element is a flex box.

const UNITLESS = new Set(['lineHeight', 'opacity', 'flexGrow', 'flexShrink', 'fontWeight', 'zIndex']);
const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`);

function css(style: Record<string, unknown> = {}): string {
  return Object.entries(style)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => {
      const prop = k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      const val = typeof v === 'number' && !UNITLESS.has(k) ? `${v}px` : String(v);
      return `${prop}:${val}`;
    })
    .join(';');
}

function node(n: CardChild | CardChild[]): string {
  if (Array.isArray(n)) return n.map(node).join('');
  if (typeof n === 'string') return esc(n);
  if (!n) return '';
  const c = n as CardNode;
  const style = css(c.props.style);
  if (c.type === 'img') return `<img src="${esc(String(c.props.src ?? ''))}" style="${esc(style)}">`;
  return `<${c.type} style="${esc(style)}">${node(c.props.children as CardChild[])}</${c.type}>`;
}

export function cardHtml(tree: CardNode, fonts: { file: string; weight: number }[], family: string): string {
  const faces = fonts
    .map(
      (f) =>
        `@font-face{font-family:'${family}';src:url('file://${f.file}') format('truetype');font-weight:${f.weight}}`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><style>${faces}html,body{margin:0}div{display:flex}</style></head><body>${node(tree)}</body></html>`;
}
