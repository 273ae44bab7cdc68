// The staged digest, kept when nothing it is made from has changed (issue 16):
// like a card's inputHash, the digest's is a hash of everything that goes into
// it. On a hit `build` keeps the files under out/<edition>/digest/ as they are
// and reads them back, and never loads the email stage (Liquid, MJML, the
// minifier): an unchanged rebuild pays neither the compile nor the imports.
//
// What goes into the hash:
// - the edition as selected (every article and stat set field, their order);
// - the whole configuration (digest output reads email.*, brand, publicUrl,
//   locale, editions …; a change elsewhere only costs one recompile);
// - every file under the email template folder (partials, text template);
// - the email stage's own code: src/email/** (locale catalogs included),
//   src/edition/**, src/util/**, this file, and the versions of the packages
//   that render (mjml, liquidjs, html-to-text, cssnano, sharp) and ours;
// - each local source picture's size and mtime.
// A hit also needs every staged file (HTML, text, archive pages, the pictures
// in digest/images/) to still have the sha256 recorded when it was written (a
// build that stopped half-way, a hand edit, a deleted thumbnail), and no
// picture that failed last time (a remote image may answer now).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve, sep } from 'node:path';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import type { StagedVariant } from '../email/files.ts';
import type { Manifest } from './manifest.ts';

/** Bump when what a cache record means changes. */
const CACHE_VERSION = 1;

const require = createRequire(import.meta.url);
const PACKAGES = ['mjml', 'liquidjs', 'html-to-text', 'cssnano', 'sharp'];
const SRC = resolve(import.meta.dirname, '..');
const CODE_DIRS = ['email', 'edition', 'util'];
const CODE_FILES = ['jobs/digest-cache.ts', 'jobs/build.ts'];

/** The warning renderDigest gives for a picture it could not make (src/email/thumbs.ts). */
const PICTURE_FAILED = /^no email picture for /;

export type DigestRecord = NonNullable<Manifest['digest']>;

function version(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Every file under `dir` (sorted, relative), or none when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name).slice(dir.length + 1))
    .sort();
}

/** The source files (relative to src/) whose code is part of the digest's hash. */
export function codeFiles(): string[] {
  return [...CODE_DIRS.flatMap((d) => filesUnder(join(SRC, d)).map((f) => `${d}/${f}`)), ...CODE_FILES];
}

let codeDigest: string | undefined;
/** The email stage's code and packages: computed once per process. */
function codeVersion(): string {
  if (codeDigest) return codeDigest;
  const h = createHash('sha256');
  for (const f of codeFiles()) h.update(`${f}\0`).update(readFileSync(join(SRC, f)));
  for (const p of PACKAGES) h.update(`${p}@${version(p)}\0`);
  h.update(`broadsheet@${(require('../../package.json') as { version: string }).version}\0`);
  codeDigest = h.digest('hex');
  return codeDigest;
}

/** A local image's size and mtime as the cards' photo loader would find it, else 'none'. */
function localImage(src: string, contentDir: string): string {
  if (/^https?:\/\//i.test(src)) return 'remote';
  try {
    const root = realpathSync(resolve(contentDir));
    const real = realpathSync(resolve(root, src));
    if (!real.startsWith(root + sep)) return 'outside';
    const s = statSync(real);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'none';
  }
}

/** The digest's input hash for this edition, configuration and templates. */
export function digestInputHash(
  ctx: Context,
  edition: Edition,
  validation: string = ctx.config.email.validation,
): string {
  const h = createHash('sha256');
  h.update(`broadsheet-digest-cache ${CACHE_VERSION}\0${codeVersion()}\0${validation}\0`);
  h.update(JSON.stringify(ctx.config)).update('\0');
  h.update(JSON.stringify(edition)).update('\0');
  const templates = resolve(ctx.paths.templates, ctx.config.email.templates);
  for (const f of filesUnder(templates)) h.update(`${f}\0`).update(readFileSync(join(templates, f)));
  h.update('\0images\0');
  for (const a of edition.articles)
    if (a.image) h.update(`${a.id}\0${a.image.src}\0${localImage(a.image.src, ctx.paths.content)}\0`);
  return h.digest('hex');
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Each staged file of the digest (relative to the edition folder) with its sha256. */
export function stagedFiles(
  editionDir: string,
  variants: Record<string, StagedVariant>,
): Record<string, string> {
  const rels = new Set<string>();
  for (const v of Object.values(variants)) {
    rels.add(v.html);
    rels.add(v.text);
    if (v.archive) rels.add(v.archive);
  }
  for (const f of filesUnder(join(editionDir, 'digest', 'images'))) rels.add(`digest/images/${f}`);
  const out: Record<string, string> = {};
  for (const rel of [...rels].sort()) out[rel] = sha256(readFileSync(join(editionDir, rel)));
  return out;
}

/**
 * The previous build's digest record when it can be kept as it is: same input
 * hash, every staged file unchanged, no picture that failed. Else undefined.
 */
export function reusableDigest(
  previous: Manifest | undefined,
  inputHash: string,
  editionDir: string,
): DigestRecord | undefined {
  const d = previous?.digest;
  if (!d?.inputHash || d.inputHash !== inputHash || !d.files || !d.variants) return undefined;
  if ((d.warnings ?? []).some((w) => PICTURE_FAILED.test(w))) return undefined;
  for (const [rel, sum] of Object.entries(d.files)) {
    const file = join(editionDir, rel);
    if (!existsSync(file) || sha256(readFileSync(file)) !== sum) return undefined;
  }
  return d;
}
