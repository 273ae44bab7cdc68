import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { DEFAULT_NAME } from '../email/config.ts';
import { archivePagePath } from '../email/files.ts';
import type { EditionRef } from './editions.ts';

// The digest "as sent" for the view-in-browser link. The stored digest is the
// compiled HTML before the per-recipient merge, with %%name%%-style tokens
// (src/email/merge.ts). Content can never produce "%%" (the email stage
// escapes it), so every token here came from the template: each is filled
// with a value that names nobody.

const TOKEN = /%%([a-z_]+)%%/g;

export function archiveHtml(
  e: EditionRef,
  p: { defaultName: string; archiveUrl: string; brandUrl: string; variant?: string },
): string | undefined {
  // A locale variant (archive/<id>/zh-Hans) has its own staged page; an unknown one is not found.
  // Builds with variants also stage the archive page (the full 數讀); older ones only the email.
  const page = archivePagePath(e.manifest.digest?.variants, p.variant ?? '');
  const rel = page?.path ?? (p.variant ? undefined : e.manifest.digest?.html);
  const staged = page?.variant;
  const defaultName = staged && p.defaultName === DEFAULT_NAME ? staged.defaultName : p.defaultName;
  if (!rel) return undefined;
  const file = resolve(e.dir, rel);
  if (!file.startsWith(e.dir + sep)) return undefined;
  let html: string;
  try {
    html = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;');
  const values: Record<string, string> = {
    name: esc(defaultName),
    email: esc(staged?.locale === 'zh-Hans' ? '阁下的电邮地址' : '閣下的電郵地址'),
    // No recipient, nothing to unsubscribe: the link goes to the archive page itself.
    unsubscribe_url: esc(p.archiveUrl),
    view_online_url: esc(p.archiveUrl),
  };
  // A web view is not an open: the open pixel (analytics.openPixel) is left out.
  return html.replace(OPEN_PIXEL, '').replace(TOKEN, (_m, f: string) => values[f] ?? '');
}

/** The digest template's open pixel (templates/email/digest.mjml): an <img> of <publicUrl>o/<token>[ref].gif. */
const OPEN_PIXEL = /<img\b[^>]*\ssrc="[^"]*\/o\/[A-Za-z0-9_%-]+\.gif"[^>]*>/g;

const THUMB_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.jpg$/;

/** A story thumbnail of the edition (digest/images/<file>.jpg), or undefined. */
export async function archiveImage(e: EditionRef, file: string): Promise<Buffer | undefined> {
  if (!THUMB_FILE.test(file) || file.includes('..')) return undefined;
  const dir = join(e.dir, 'digest', 'images');
  const path = resolve(dir, file);
  if (!path.startsWith(dir + sep)) return undefined;
  return readFile(path).catch(() => undefined);
}
