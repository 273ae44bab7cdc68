// The digest's locale variants on disk, next to digest/index.html: `build`
// stages them, `send` reads them back, the archive serves each at its own URL
// (archive/<id>/zh-Hans). The edition's own variant is digest/index.html +
// digest/digest.txt as before; another one lives in digest/<locale>/.
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import type { DigestVariant } from './merge.ts';

/** A variant as the manifest records it: its files instead of its content. */
export interface StagedVariant extends Omit<DigestVariant, 'html' | 'text' | 'archiveHtml'> {
  html: string;
  text: string;
  /** The archive page when it is not the email itself (full 數讀). */
  archive?: string;
}

const folderOf = (v: DigestVariant) => v.archivePath || v.locale;

/**
 * Write every variant but the first (build writes that one as
 * digest/index.html) and describe all of them for the manifest.
 */
export async function writeDigestVariants(
  digest: { variants: Record<string, DigestVariant> },
  editionDir: string,
): Promise<Record<string, StagedVariant>> {
  const out: Record<string, StagedVariant> = {};
  for (const [i, v] of Object.values(digest.variants).entries()) {
    const { html, text, archiveHtml, ...meta } = v;
    const rel = i === 0 ? 'digest' : `digest/${folderOf(v)}`;
    if (i > 0) {
      await writeFileAtomic(join(editionDir, rel, 'index.html'), html);
      await writeFileAtomic(join(editionDir, rel, 'digest.txt'), text);
    }
    out[v.locale] = {
      ...meta,
      html: `${rel}/index.html`,
      text: i === 0 ? 'digest/digest.txt' : `${rel}/digest.txt`,
    };
    if (archiveHtml) {
      await writeFileAtomic(join(editionDir, rel, 'archive.html'), archiveHtml);
      out[v.locale]!.archive = `${rel}/archive.html`;
    }
  }
  return out;
}

/** The staged variants back in memory (send); undefined when the manifest has none (older builds). */
export async function readDigestVariants(
  editionDir: string,
  staged: Record<string, StagedVariant> | undefined,
): Promise<Record<string, DigestVariant> | undefined> {
  if (!staged || !Object.keys(staged).length) return undefined;
  const root = resolve(editionDir);
  const inside = (rel: string) => {
    const f = resolve(root, rel);
    if (!f.startsWith(root + sep)) throw new Error(`digest variant path ${rel} is outside ${editionDir}`);
    return f;
  };
  const out: Record<string, DigestVariant> = {};
  for (const [locale, { archive: _archive, ...s }] of Object.entries(staged)) {
    const [html, text] = await Promise.all([
      readFile(inside(s.html), 'utf8'),
      readFile(inside(s.text), 'utf8'),
    ]);
    out[locale] = { ...s, html, text };
  }
  return out;
}

/**
 * The staged page archive/<id>/<archivePath> shows ('' = the edition's own
 * variant): its archive page (full 數讀) when there is one, else the email.
 */
export function archivePagePath(
  staged: Record<string, StagedVariant> | undefined,
  archivePath: string,
): { path: string; variant: StagedVariant } | undefined {
  const all = Object.values(staged ?? {});
  const v = archivePath ? all.find((x) => x.archivePath === archivePath) : all[0];
  return v ? { path: v.archive ?? v.html, variant: v } : undefined;
}
