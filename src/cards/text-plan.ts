import { FONT_FAMILY, primaryHas } from './fonts.ts';
import type { CardChild, CardNode } from './layout-api.ts';
import { hbReady, loadFaces } from './shaping.ts';
import { type DrawText, layText, type TextStyle } from './text-layout.ts';

// Which plain texts of a card are laid out outside satori (text-layout.ts
// lays them out), and their <text> pieces written into satori's SVG.
//
// A text node costs satori ~60 µs plus ~8 µs a character (style, line
// breaking, measuring, its <text> pieces): about 40 % of an og card's satori
// time. For an element whose only child is such a text, the text is taken out
// of the tree given to satori and the element is given the text's size as its
// minimum (what its measured text gave it), so satori lays out the same boxes.
// The <text> pieces satori would have written are then written here, at the
// element's place (onNodeDetected), into the SVG right after the element's
// own shapes: the SVG is the same, byte for byte (tests/integration/
// cards-text-layout.test.ts compares it on every sample card and on generated
// text).
//
// Only what this file knows is taken: `white-space: pre` (our breaks, no
// soft wrapping), left-aligned, one face of Noto Sans HK at 400 or 700, a hex
// colour, numeric size, line height and letter spacing, integral padding, no
// emoji, tab, control character, ellipsis, decoration or transform, nothing
// above it that clips, fades or aligns by baseline. Anything else stays with
// satori.

// Controls, tabs and bidi marks (satori would measure tabs to stops and reorder), and right-to-left scripts.
const SKIP =
  /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\u0000-\u0009\u000B-\u001F\u007F-\u009F\u2028\u2029\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

/** The style a text gets from its element and those above it, and whether all of it is known here. */
interface Inherited extends Omit<TextStyle, 'color'> {
  ok: boolean;
  color: string | undefined;
  whiteSpace: string | undefined;
  fontFamily: string | undefined;
}

/** Style keys the element holding a taken text may have (with the values checked below). */
const HOLDER = new Set([
  'alignItems',
  'alignSelf',
  'backgroundColor',
  'color',
  'display',
  'flexDirection',
  'flexGrow',
  'flexShrink',
  'fontFamily',
  'fontSize',
  'fontWeight',
  'justifyContent',
  'letterSpacing',
  'lineHeight',
  'margin',
  'marginBottom',
  'marginLeft',
  'marginRight',
  'marginTop',
  'padding',
  'paddingBottom',
  'paddingLeft',
  'paddingRight',
  'paddingTop',
  'whiteSpace',
]);
/** …and an element above it: also what sizes and places boxes, but nothing that clips, fades or transforms. */
const ABOVE = new Set([
  ...HOLDER,
  'bottom',
  'boxSizing',
  'flexBasis',
  'height',
  'left',
  'maxHeight',
  'maxWidth',
  'minHeight',
  'minWidth',
  'objectFit',
  'opacity',
  'position',
  'right',
  'top',
  'width',
]);

const MARGINS = ['margin', 'marginTop', 'marginRight', 'marginBottom', 'marginLeft'];

/** Whether the element is stretched across its parent's cross axis (align-self, else align-items, stretch). */
function stretched(st: Record<string, unknown>, parent: Record<string, unknown> | undefined): boolean {
  if (!parent) return false;
  const self = st.alignSelf === undefined || st.alignSelf === 'auto' ? parent.alignItems : st.alignSelf;
  return self === undefined || self === 'stretch' || self === 'normal';
}

function inherit(up: Inherited, st: Record<string, unknown>): Inherited {
  const out = { ...up };
  for (const [k, v] of Object.entries(st)) {
    if (v === undefined) continue;
    if (!ABOVE.has(k)) out.ok = false;
    switch (k) {
      case 'alignItems':
      case 'alignSelf':
        // A baseline is found through first children: the text's, which satori no longer has.
        if (v === 'baseline') out.ok = false;
        break;
      case 'opacity':
        if (v !== 1) out.ok = false;
        break;
      case 'display':
        // Hidden, or laid out as blocks and inline text: satori's other paths.
        if (v !== 'flex') out.ok = false;
        break;
      case 'fontWeight':
        if (v === 400 || v === 700) out.fontWeight = v;
        else out.ok = false;
        break;
      case 'color':
        if (typeof v === 'string' && /^#[0-9a-f]{6}$/.test(v)) out.color = v;
        else out.ok = false;
        break;
      case 'fontSize':
      case 'lineHeight':
        if (typeof v === 'number' && v > 0) out[k] = v;
        else out.ok = false;
        break;
      case 'letterSpacing':
        if (typeof v === 'number' && Number.isFinite(v)) out.letterSpacing = v;
        else out.ok = false;
        break;
      case 'whiteSpace':
        out.whiteSpace = String(v);
        break;
      case 'fontFamily':
        out.fontFamily = String(v);
        break;
    }
  }
  return out;
}

/** The element's padding as [top, right, bottom, left] in whole pixels, or undefined. */
function paddingOf(st: Record<string, unknown>): number[] | undefined {
  let p = [0, 0, 0, 0];
  const all = st.padding;
  if (typeof all === 'number') p = [all, all, all, all];
  else if (typeof all === 'string') {
    const v = all.trim().split(/\s+/);
    if (!v.every((x) => /^\d+px$/.test(x)) || v.length > 4) return undefined;
    const n = v.map((x) => Number.parseInt(x, 10));
    const [a, b = a, c = a, d = b] = n as [number, number?, number?, number?];
    p = [a, b, c, d];
  } else if (all !== undefined) return undefined;
  const sides = ['paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft'] as const;
  for (let i = 0; i < 4; i++) {
    const v = st[sides[i]!];
    if (v === undefined) continue;
    if (typeof v !== 'number') return undefined;
    p[i] = v;
  }
  return p.every((x) => Number.isInteger(x) && x >= 0) ? p : undefined;
}

/** satori's normalizeChildren: flattened, no null/boolean, numbers as strings, adjacent strings joined. */
function normalized(children: unknown): CardChild[] {
  const out: CardChild[] = [];
  for (const c of [children].flat(Number.POSITIVE_INFINITY) as unknown[]) {
    if (c === undefined || c === null || typeof c === 'boolean') continue;
    const v = typeof c === 'number' ? String(c) : (c as CardChild);
    if (typeof v === 'string' && typeof out[out.length - 1] === 'string') out[out.length - 1] += v;
    else out.push(v);
  }
  return out;
}

/**
 * Whether satori draws every character of `text` from the face itself: an
 * emoji the face lacks is an image (loadAdditionalAsset), one it has is text
 * to satori as well; U+FE0F and keycaps make satori look for an emoji.
 */
function drawable(text: string, weight: 400 | 700): boolean {
  if (!text.trim() || SKIP.test(text) || /[\uFE0F\u20E3]/.test(text)) return false;
  for (const ch of text) if (ch !== '\n' && !primaryHas(ch.codePointAt(0)!, weight)) return false;
  return true;
}

/** A text taken out of the tree, laid out; drawn once satori has placed its element. */
export interface TakenText {
  /** satori's id of the holding element (its overflow mask is `satori_om-<id>`). */
  id: string;
  pad: number[];
  /** Whether the element draws a background (a <rect> after its mask). */
  background: boolean;
  draw: DrawText;
}

export interface TextPlan {
  /** The tree satori lays out: the taken texts' elements hold no children. */
  tree: CardNode;
  taken: Map<string, TakenText>;
}

/**
 * The tree with every text this file can lay out taken out, or undefined when
 * there is none. `tree` itself is not changed.
 */
export async function planTexts(tree: CardNode): Promise<TextPlan | undefined> {
  const [hb, faces] = await Promise.all([hbReady, loadFaces()]);
  const taken = new Map<string, TakenText>();
  const root: Inherited = {
    ok: true,
    fontSize: 16,
    fontWeight: 'normal',
    color: undefined,
    lineHeight: 'normal',
    letterSpacing: 0,
    whiteSpace: undefined,
    fontFamily: undefined,
  };
  const visit = (node: CardNode, id: string, up: Inherited, parent?: Record<string, unknown>): CardNode => {
    const st = (node.props.style ?? {}) as Record<string, unknown>;
    const here = inherit(up, st);
    const kids = normalized(node.props.children);
    if (node.type === 'div' && kids.length === 1 && typeof kids[0] === 'string') {
      const text = kids[0];
      const weight = here.fontWeight === 700 ? 700 : 400;
      const pad = paddingOf(st);
      // `white-space: pre` lines are ours. Without it, text with no white space
      // in a row that does not shrink it stays on one line (satori would wrap
      // it only in a box narrower than the text).
      const rigid = st.flexShrink === 0;
      const oneLine =
        (here.whiteSpace === undefined || here.whiteSpace === 'normal') &&
        !/\s/.test(text) &&
        rigid &&
        st.width === undefined &&
        (parent?.flexDirection === undefined || parent.flexDirection === 'row');
      // A fixed width that does not shrink: the text's width is not its minimum.
      const fixedWidth = typeof st.width === 'number' && rigid && here.whiteSpace === 'pre';
      const holderOk =
        here.ok &&
        pad !== undefined &&
        (here.whiteSpace === 'pre' || oneLine) &&
        here.fontFamily === FONT_FAMILY &&
        here.color !== undefined &&
        (st.alignItems === undefined || st.alignItems === 'stretch' || st.alignItems === 'flex-start') &&
        (st.justifyContent === undefined || st.justifyContent === 'flex-start') &&
        (st.flexDirection === undefined || st.flexDirection === 'row' || st.flexDirection === 'column') &&
        MARGINS.every((k) => st[k] === undefined || typeof st[k] === 'number') &&
        Object.keys(st).every((k) => HOLDER.has(k) || (k === 'width' && fixedWidth)) &&
        // Its text's size becomes its minimum: stretched by its parent to less than
        // that, it would now be larger. Nothing of it shows but a background.
        !(st.backgroundColor !== undefined && stretched(st, parent));
      if (holderOk && drawable(text, weight)) {
        const laid = layText(text, here as TextStyle, hb, faces.get(weight)!);
        taken.set(id, { id, pad, background: st.backgroundColor !== undefined, draw: laid.draw });
        const min = fixedWidth
          ? { minHeight: laid.height }
          : { minWidth: laid.width, minHeight: laid.height };
        return {
          ...node,
          key: id,
          props: { ...node.props, style: { ...st, ...min }, children: [] },
        } as CardNode;
      }
      return node;
    }
    let i = 0;
    let changed = false;
    const out = kids.map((c) => {
      if (typeof c === 'string') {
        if (!/^[ \t\n\r\f]*$/.test(c)) i++;
        return c;
      }
      const next = visit(c as CardNode, `${id}-${i++}`, here, st);
      if (next !== c) changed = true;
      return next;
    });
    return changed ? ({ ...node, props: { ...node.props, children: out } } as CardNode) : node;
  };
  const planned = visit(tree, 'id', root);
  return taken.size ? { tree: planned, taken } : undefined;
}

const MASK = '<mask id="satori_om-';

/**
 * satori's SVG with the taken texts written in, each right after its element's
 * own shapes (before the next element's overflow mask); undefined if an
 * element was not found (the caller then lays the card out with satori alone).
 */
export function insertTexts(
  svg: string,
  plan: TextPlan,
  placed: Map<string, { left: number; top: number }>,
  canvas: { width: number; height: number },
): string | undefined {
  const cuts: { at: number; text: string }[] = [];
  for (const t of plan.taken.values()) {
    const box = placed.get(t.id);
    const start = svg.indexOf(`${MASK}${t.id}">`);
    if (!box || start < 0) return undefined;
    // The element's own output: its overflow mask, then its background's <rect>.
    let at = svg.indexOf('</mask>', start);
    if (at < 0) return undefined;
    at += '</mask>'.length;
    if (t.background) {
      if (!svg.startsWith('<rect ', at)) return undefined;
      at = svg.indexOf('/>', at) + 2;
    }
    cuts.push({ at, text: t.draw(box.left + t.pad[3]!, box.top + t.pad[0]!, canvas) });
  }
  cuts.sort((a, b) => a.at - b.at);
  let out = '';
  let from = 0;
  for (const c of cuts) {
    out += svg.slice(from, c.at) + c.text;
    from = c.at;
  }
  return out + svg.slice(from);
}
