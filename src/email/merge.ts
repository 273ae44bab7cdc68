// Per-recipient merge: the digest is compiled once per edition with merge
// tokens (%%name%% …) left in place; each recipient costs a string join of
// pre-split parts, not an MJML compile.
//
// Why content can never forge a token: every piece of content reaches the HTML
// through escapeHtml(), which writes a "%" followed by another "%" as &#37;, so
// "%%" never comes out of data; in the text part it becomes "%\u200b%".
import { DEFAULT_NAME } from './config.ts';
import { toSimplified } from './locale.ts';
import { variantFor } from './locales/index.ts';
import { wrapLine } from './text.ts';

export const MERGE_FIELDS = [
  'name',
  'email',
  'unsubscribe_url',
  'preferences_url',
  'view_online_url',
  'reader_ref',
] as const;
export type MergeField = (typeof MERGE_FIELDS)[number];
const TOKEN = /%%(name|email|unsubscribe_url|preferences_url|view_online_url|reader_ref)%%/g;
const HAS_TOKEN = new RegExp(TOKEN.source);

export interface Recipient {
  email: string;
  name?: string;
  /** Picks the digest variant (zh-Hans, zh-Hant-HK, …); unsupported locales get the edition's own. */
  locale?: string;
  unsubscribeUrl: string;
  /**
   * The reader's preference centre (/p/<token>). Without one (test sends, previews) the
   * unsubscribe URL with /u/ → /p/ is used: a test's non-token stays a non-token.
   */
  preferencesUrl?: string;
  viewOnlineUrl: string;
  /**
   * The reader's part of click links and the open pixel ("/<ref>", analytics.perReader;
   * src/analytics/links.ts). Empty (the default): links name no reader.
   */
  readerRef?: string;
}

/** What the worst-case size is computed with: longer values are refused by mergeRecipient. */
export const MERGE_LIMITS: Record<MergeField, number> = {
  name: 64,
  email: 254,
  unsubscribe_url: 512,
  preferences_url: 512,
  view_online_url: 512,
  reader_ref: 64,
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
  /** Compiled locale variants (renderDigest); without them zh-Hans is converted from the HTML. */
  variants?: Record<string, DigestVariant>;
}

/** One locale variant of a compiled digest. */
export interface DigestVariant {
  locale: string;
  subject: string;
  html: string;
  text: string;
  /** From display name and List-Id phrase in this variant's language (大公报每日简报). */
  fromName: string;
  listName: string;
  /** Greeting name for a reader without one, in this variant's language. */
  defaultName: string;
  /** The variant's archive page is archive/<id>/<archivePath> ('' = archive/<id>). */
  archivePath: string;
  /** The archive page's HTML when it differs from the email (the full 數讀 of a compact digest). */
  archiveHtml?: string;
}

/** The variant of a compiled digest a reader with `locale` gets. */
export function pickVariant(digest: Mergeable, locale: string | undefined): DigestVariant | undefined {
  const v = digest.variants;
  if (!v) return undefined;
  return v[variantFor(locale, Object.keys(v))];
}

/** The view-online URL of a variant: archive/<id> → archive/<id>/zh-Hans. */
export function variantUrl(url: string, archivePath: string): string {
  if (!archivePath) return url;
  try {
    const u = new URL(url);
    if (!u.pathname.endsWith(`/${archivePath}`))
      u.pathname = `${u.pathname.replace(/\/$/, '')}/${archivePath}`;
    return u.href;
  } catch {
    return url;
  }
}

interface Prepared {
  subject: string;
  html: Split;
  text: TextPieces;
  /** The HTML's fixed parts as UTF-8, made on first use by mergeRecipientBytes. */
  htmlBytes?: Buffer[];
}

/**
 * The text part for per-reader wrapping. Wrapping is line by line (wrapText),
 * and merge tokens never span lines (no value holds a line break: check()), so
 * only the lines holding a token are wrapped per reader; every other line is
 * wrapped once here. `fixed` (already wrapped, with the line breaks between
 * pieces) alternates with the token lines: fixed[0] line[0] fixed[1] … fixed[n].
 */
interface TextPieces {
  fixed: string[];
  fixedBytes: Buffer[];
  lines: Split[];
}

function textPieces(text: string): TextPieces {
  const fixed: string[] = [];
  const lines: Split[] = [];
  let acc = '';
  text.split('\n').forEach((line, i) => {
    if (i > 0) acc += '\n';
    if (HAS_TOKEN.test(line)) {
      fixed.push(acc);
      lines.push(split(line));
      acc = '';
    } else acc += wrapLine(line).join('\n');
  });
  fixed.push(acc);
  return { fixed, fixedBytes: fixed.map((f) => Buffer.from(f, 'utf8')), lines };
}

const wrapped = (line: Split, values: Record<MergeField, string>) => wrapLine(join(line, values)).join('\n');

// Split once per digest object (and per locale), reused for every recipient.
const prepared = new WeakMap<Mergeable, Map<string, Prepared>>();

const isSimplified = (html: string) => /<html[^>]*\slang="zh-Hans"/.test(html);
// Whether a digest is already Simplified: asked per reader, the regex scan of its HTML is made once.
const simplifiedHtml = new WeakMap<Mergeable, boolean>();

function prepare(digest: Mergeable, locale: string | undefined): Prepared {
  const variant = pickVariant(digest, locale);
  if (variant) {
    let byLocale = prepared.get(digest);
    if (!byLocale) {
      byLocale = new Map();
      prepared.set(digest, byLocale);
    }
    let p = byLocale.get(variant.locale);
    if (!p) {
      p = { subject: variant.subject, html: split(variant.html), text: textPieces(variant.text) };
      byLocale.set(variant.locale, p);
    }
    return p;
  }
  let simplified = simplifiedHtml.get(digest);
  if (simplified === undefined) {
    simplified = isSimplified(digest.html);
    simplifiedHtml.set(digest, simplified);
  }
  const want = locale === 'zh-Hans' || simplified ? 'zh-Hans' : 'source';
  let byLocale = prepared.get(digest);
  if (!byLocale) {
    byLocale = new Map();
    prepared.set(digest, byLocale);
  }
  let p = byLocale.get(want);
  if (!p) {
    const d = want === 'zh-Hans' && !simplified ? toSimplified(digest) : digest;
    p = { subject: d.subject, html: split(d.html), text: textPieces(d.text) };
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

export interface Merged {
  subject: string;
  html: string;
  text: string;
  /** The variant this reader got, and its From name / List-Id phrase (when the digest has variants). */
  locale?: string;
  fromName?: string;
  listName?: string;
}

/** What every merge of one reader needs: the prepared digest and the field values, escaped per part. */
function fieldsFor(digest: Mergeable, r: Recipient, opts: { defaultName?: string }) {
  const p = prepare(digest, r.locale);
  const variant = pickVariant(digest, r.locale);
  // The configured name wins unless it is the built-in 讀者, which each variant says in its own language.
  const fallback =
    opts.defaultName && (opts.defaultName !== DEFAULT_NAME || !variant)
      ? opts.defaultName
      : variant?.defaultName;
  const raw: Record<MergeField, string> = {
    name: check('name', r.name?.trim() || fallback || DEFAULT_NAME),
    email: check('email', r.email),
    unsubscribe_url: check('unsubscribe_url', r.unsubscribeUrl),
    preferences_url: check(
      'preferences_url',
      r.preferencesUrl ?? r.unsubscribeUrl.replace(/\/u\/(?=[^/]*$)/, '/p/'),
    ),
    view_online_url: check('view_online_url', variantUrl(r.viewOnlineUrl, variant?.archivePath ?? '')),
    reader_ref: check('reader_ref', r.readerRef ?? ''),
  };
  const html = {} as Record<MergeField, string>;
  for (const f of MERGE_FIELDS) html[f] = escapeHtml(raw[f]);
  return { p, variant, html, text: raw };
}

function withVariant<T extends object>(out: T, variant: DigestVariant | undefined) {
  if (variant)
    Object.assign(out, { locale: variant.locale, fromName: variant.fromName, listName: variant.listName });
  return out;
}

/**
 * Fill one recipient's fields into a compiled digest: escaped for HTML, plain
 * for text. The reader's locale picks the compiled variant (each variant was
 * compiled once per edition; splitting is cached per digest and variant).
 */
export function mergeRecipient(digest: Mergeable, r: Recipient, opts: { defaultName?: string } = {}): Merged {
  const { p, variant, html, text } = fieldsFor(digest, r, opts);
  // A filled-in name or address can push its line past 72 columns: wrap again
  // (the lines holding a token; the others were wrapped once, in prepare()).
  const t = p.text;
  let out = t.fixed[0]!;
  for (let i = 0; i < t.lines.length; i++) out += wrapped(t.lines[i]!, text) + t.fixed[i + 1]!;
  return withVariant<Merged>({ subject: p.subject, html: join(p.html, html), text: out }, variant);
}

export interface MergedBytes extends Omit<Merged, 'html' | 'text'> {
  /**
   * UTF-8 of mergeRecipient's html and text, byte for byte once joined, as
   * chunks: the digest's fixed parts (the same Buffer objects for every
   * reader: src/delivery/base64-lines.ts caches their encoding) and this
   * reader's values between them.
   */
  html: Buffer[];
  text: Buffer[];
}

/**
 * mergeRecipient as UTF-8 chunks, for the send: the digest's fixed parts are
 * encoded once per digest and variant, so a reader costs encoding a few short
 * values (UTF-8-encoding a 60 KB CJK string was the largest cost of composing
 * a message).
 */
export function mergeRecipientBytes(
  digest: Mergeable,
  r: Recipient,
  opts: { defaultName?: string } = {},
): MergedBytes {
  const { p, variant, html, text } = fieldsFor(digest, r, opts);
  p.htmlBytes ??= p.html.parts.map((s) => Buffer.from(s, 'utf8'));
  const hb = p.htmlBytes;
  const values = new Map<MergeField, Buffer>();
  const htmlParts: Buffer[] = [hb[0]!];
  for (let i = 0; i < p.html.fields.length; i++) {
    const f = p.html.fields[i]!;
    let v = values.get(f);
    if (!v) {
      v = Buffer.from(html[f], 'utf8');
      values.set(f, v);
    }
    htmlParts.push(v, hb[i + 1]!);
  }
  const t = p.text;
  const textParts: Buffer[] = [t.fixedBytes[0]!];
  for (let i = 0; i < t.lines.length; i++)
    textParts.push(Buffer.from(wrapped(t.lines[i]!, text), 'utf8'), t.fixedBytes[i + 1]!);
  return withVariant<MergedBytes>({ subject: p.subject, html: htmlParts, text: textParts }, variant);
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
