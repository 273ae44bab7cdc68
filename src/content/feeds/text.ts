// Feed text → the single-line plain text the content model accepts. Feeds mix
// HTML, entities and stray control bytes; articles hold literal text only, so
// `<`, `&`, quotes and `{{ x }}` survive as characters and every output escapes them.
import { convert } from 'html-to-text';

// Same set the content model refuses (text.ts): C0/C1 controls, bidi overrides, BOM.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFEFF]/gu;

const SKIP = [
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'object',
  'svg',
  'head',
  'img',
  'video',
  'audio',
];
const KEEP_CASE = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];

const HTML_OPTIONS = {
  wordwrap: false as const,
  selectors: [
    ...SKIP.map((selector) => ({ selector, format: 'skip' })),
    // html-to-text shouts headings by default; a dek is running text.
    ...KEEP_CASE.map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'ul', options: { itemPrefix: '' } },
  ],
};

/** Collapse every run of whitespace (newlines, NBSP, ideographic space) to one space. */
export const collapse = (s: string) => s.replace(CONTROL, '').replace(/\s+/gu, ' ').trim();

/** HTML → plain text: scripts and styles dropped, entities decoded, whitespace collapsed. */
export const htmlToPlain = (html: string) => collapse(convert(html, HTML_OPTIONS));

export interface FeedText {
  value: string;
  /** True when the feed says (or the markup shows) the value is HTML. */
  html: boolean;
}

export const plainOf = (t: FeedText | undefined): string =>
  t ? (t.html ? htmlToPlain(t.value) : collapse(t.value)) : '';

/**
 * Bound text to `max` UTF-16 units (what zod's max counts) without splitting a
 * surrogate pair such as 𨋢, ending with "…" when cut.
 */
export function clamp(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = '';
  for (const ch of s) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out.trimEnd()}…`;
}
