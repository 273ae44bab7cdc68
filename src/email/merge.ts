// Per-recipient merge: the digest is compiled once per edition with merge
// tokens (%%name%% …) left in place; each recipient costs a string join of
// pre-split parts, not an MJML compile.
//
// Why content can never forge a token: every piece of content reaches the HTML
// through escapeHtml(), which writes a "%" followed by another "%" as &#37;, so
// "%%" never comes out of data; in the text part it becomes "%\u200b%".
import { toSimplified } from './locale.ts';

export const MERGE_FIELDS = ['name', 'email', 'unsubscribe_url', 'view_online_url'] as const;
export type MergeField = (typeof MERGE_FIELDS)[number];
const TOKEN = /%%(name|email|unsubscribe_url|view_online_url)%%/g;

export interface Recipient {
  email: string;
  name?: string;
  /** 'zh-Hans' gets the Simplified conversion; anything else the digest as rendered. */
  locale?: string;
  unsubscribeUrl: string;
  viewOnlineUrl: string;
}

/** What the worst-case size is computed with: longer values are refused by mergeRecipient. */
export const MERGE_LIMITS: Record<MergeField, number> = {
  name: 64,
  email: 254,
  unsubscribe_url: 512,
  view_online_url: 512,
};

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  "'": '&#39;',
};

/** HTML-escape data; also breaks up "%%" so data can never become a merge token. */
export function escapeHtml(v: unknown): string {
  return String(v ?? '')
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
    .replace(/%(?=%)/g, '&#37;');
}

/** For the plain-text part: no HTML escaping, but "%%" from data is broken up. */
export function escapeText(v: unknown): string {
  return String(v ?? '').replace(/%(?=%)/g, '%\u200b');
}

interface Split {
  parts: string[];
  fields: MergeField[];
}

function split(s: string): Split {
  const parts: string[] = [];
  const fields: MergeField[] = [];
  let last = 0;
  for (const m of s.matchAll(TOKEN)) {
    parts.push(s.slice(last, m.index));
    fields.push(m[1] as MergeField);
    last = m.index! + m[0].length;
  }
  parts.push(s.slice(last));
  return { parts, fields };
}

function join(sp: Split, values: Record<MergeField, string>): string {
  let out = sp.parts[0]!;
  for (let i = 0; i < sp.fields.length; i++) out += values[sp.fields[i]!] + sp.parts[i + 1]!;
  return out;
}

export interface Mergeable {
  subject: string;
  html: string;
  text: string;
}

interface Prepared {
  subject: string;
  html: Split;
  text: Split;
}

// Split once per digest object (and per locale), reused for every recipient.
const prepared = new WeakMap<Mergeable, Map<string, Prepared>>();

const isSimplified = (html: string) => /<html[^>]*\slang="zh-Hans"/.test(html);

function prepare(digest: Mergeable, locale: string | undefined): Prepared {
  const want = locale === 'zh-Hans' || isSimplified(digest.html) ? 'zh-Hans' : 'source';
  let byLocale = prepared.get(digest);
  if (!byLocale) {
    byLocale = new Map();
    prepared.set(digest, byLocale);
  }
  let p = byLocale.get(want);
  if (!p) {
    const d = want === 'zh-Hans' && !isSimplified(digest.html) ? toSimplified(digest) : digest;
    p = { subject: d.subject, html: split(d.html), text: split(d.text) };
    byLocale.set(want, p);
  }
  return p;
}

export class MergeFieldError extends Error {
  constructor(
    readonly field: MergeField,
    readonly length: number,
  ) {
    super(`merge field ${field} is ${length} characters, over the limit of ${MERGE_LIMITS[field]}`);
  }
}

function check(field: MergeField, v: string): string {
  if ([...v].length > MERGE_LIMITS[field]) throw new MergeFieldError(field, [...v].length);
  // Header-like values must stay on one line in text and attributes.
  return v.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

/**
 * Fill one recipient's fields into a compiled digest: escaped for HTML, plain
 * for text. A recipient with locale zh-Hans gets the Simplified conversion
 * (converted once per digest, then cached).
 */
export function mergeRecipient(
  digest: Mergeable,
  r: Recipient,
  opts: { defaultName?: string } = {},
): { subject: string; html: string; text: string } {
  const p = prepare(digest, r.locale);
  const raw: Record<MergeField, string> = {
    name: check('name', r.name?.trim() || opts.defaultName || '讀者'),
    email: check('email', r.email),
    unsubscribe_url: check('unsubscribe_url', r.unsubscribeUrl),
    view_online_url: check('view_online_url', r.viewOnlineUrl),
  };
  const html = {} as Record<MergeField, string>;
  const text = {} as Record<MergeField, string>;
  for (const f of MERGE_FIELDS) {
    html[f] = escapeHtml(raw[f]);
    text[f] = raw[f];
  }
  return { subject: p.subject, html: join(p.html, html), text: join(p.text, text) };
}

/**
 * Bytes of the HTML after the worst possible merge: every token replaced by
 * the longest allowed value whose every character escapes to the most bytes
 * (a 5-byte entity for ASCII, 4 bytes for astral characters).
 */
export function worstCaseBytes(html: string): number {
  const sp = split(html);
  let bytes = 0;
  for (const part of sp.parts) bytes += Buffer.byteLength(part, 'utf8');
  for (const f of sp.fields) bytes += MERGE_LIMITS[f] * 5;
  return bytes;
}

/** How many merge tokens of each kind a compiled digest holds (tests, diagnostics). */
export function tokenCounts(s: string): Partial<Record<MergeField, number>> {
  const out: Partial<Record<MergeField, number>> = {};
  for (const f of split(s).fields) out[f] = (out[f] ?? 0) + 1;
  return out;
}
