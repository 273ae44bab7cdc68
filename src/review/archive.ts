import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { EditionRef } from './editions.ts';

// The digest "as sent" for the view-in-browser link. The stored digest is the
// compiled HTML before the per-recipient merge, with %%name%%-style tokens
// (src/email/merge.ts). Content can never produce "%%" (the email stage
// escapes it), so every token here came from the template: each is filled
// with a value that names nobody.

const TOKEN = /%%([a-z_]+)%%/g;

export function archiveHtml(
  e: EditionRef,
  p: { defaultName: string; archiveUrl: string; brandUrl: string },
): string | undefined {
  const rel = e.manifest.digest?.html;
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
    name: esc(p.defaultName),
    email: esc('閣下的電郵地址'),
    // No recipient, nothing to unsubscribe: the link goes to the archive page itself.
    unsubscribe_url: esc(p.archiveUrl),
    view_online_url: esc(p.archiveUrl),
  };
  return html.replace(TOKEN, (_m, f: string) => values[f] ?? '');
}
