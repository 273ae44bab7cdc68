import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fontFiles } from './fonts.ts';

// Everything that can change a card's pixels goes into its inputHash: the card
// data (content, photo bytes), format, brand, layout + theme files, the
// renderer's own source, font files and the versions of the drawing packages.

const require = createRequire(import.meta.url);
const PACKAGES = [
  'satori',
  'harfbuzzjs',
  '@resvg/resvg-js',
  'sharp',
  '@twemoji/svg',
  '@expo-google-fonts/noto-sans-hk',
  'budoux',
  'linebreak',
];
export const RENDERER_FILES = [
  'render.ts',
  'theme.ts',
  'raster.ts',
  'raster-svg.ts',
  'raster-images.ts',
  'shaping.ts',
  'text-layout.ts',
  'text-plan.ts',
  'stand-ins.ts',
  'glyph-cache.ts',
  'glyph-fill.ts',
  'png.ts',
  'typeset.ts',
  'segment.ts',
  'punct.ts',
  'overflow.ts',
  'fonts.ts',
  'formats.ts',
  // How figures and quotes print is part of the picture too.
  '../util/numbers.ts',
  '../util/intl.ts', // numbers.ts's formatters
  '../util/quotes.ts',
  '../util/xml.ts', // text-layout.ts writes the SVG's text with it; raster and overflow read it back
];

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function version(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Digest of the environment shared by every card: computed once per build. */
export function environmentDigest(templatesDir: string): string {
  const h = createHash('sha256');
  const dir = join(templatesDir, 'cards');
  for (const f of readdirSync(dir).sort()) h.update(`${f}\0`).update(readFileSync(join(dir, f)));
  const here = new URL('.', import.meta.url).pathname;
  for (const f of RENDERER_FILES) h.update(readFileSync(join(here, f)));
  // Font files are 7 MB each: their size + package version stand in for the bytes.
  for (const f of fontFiles()) h.update(`${f}:${statSync(f).size}`);
  for (const p of PACKAGES) h.update(`${p}@${version(p)}`);
  return h.digest('hex');
}

export function inputHash(env: string, card: unknown): string {
  return sha(`${env}\0${JSON.stringify(card)}`);
}

export const sha256 = sha;
