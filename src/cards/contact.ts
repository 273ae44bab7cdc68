import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import type { ManifestCard, ManifestContact } from '../jobs/manifest.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { CardFormat } from './config.ts';
import { FORMATS } from './formats.ts';

// A contact sheet per edition and format (`<edition>/contact/<format>.png`):
// every card of that format, in the edition's order, on one page an editor
// can download from the gallery and check or forward at a glance.

/** Thumbnail width in the sheet and cards per row: wide cards 3 across, the rest 5. */
const LAYOUT = (f: CardFormat) =>
  FORMATS[f].shape === 'wide' || FORMATS[f].shape === 'banner' ? { w: 480, cols: 3 } : { w: 300, cols: 5 };
const GAP = 16;

export const contactSheetPath = (format: CardFormat) => `contact/${format}.png`;

export async function writeContactSheets(
  editionDir: string,
  cards: ManifestCard[],
  formats: readonly CardFormat[],
): Promise<string[]> {
  const written: string[] = [];
  for (const format of formats) {
    const mine = cards.filter((c) => c.format === format && existsSync(join(editionDir, c.path)));
    if (!mine.length) continue;
    const { w, cols } = LAYOUT(format);
    const h = Math.round((w * FORMATS[format].height) / FORMATS[format].width);
    const rows = Math.ceil(mine.length / cols);
    const width = GAP + Math.min(cols, mine.length) * (w + GAP);
    const height = GAP + rows * (h + GAP);
    // One card decoded at a time: all at once (Promise.all) held every card's
    // pixels in libvips together (39 story cards ≈ 320 MB) and raised the
    // build's peak RSS by ~200 MB. Thumbnails are raw pixels, not re-encoded.
    const tiles: OverlayOptions[] = [];
    for (const [i, c] of mine.entries()) {
      const { data, info } = await sharp(join(editionDir, c.path))
        .resize(w, h)
        .raw()
        .toBuffer({ resolveWithObject: true });
      tiles.push({
        input: data,
        raw: { width: info.width, height: info.height, channels: info.channels },
        left: GAP + (i % cols) * (w + GAP),
        top: GAP + Math.floor(i / cols) * (h + GAP),
      });
    }
    const png = await sharp({ create: { width, height, channels: 3, background: '#d9d4cc' } })
      .composite(tiles)
      .png({ compressionLevel: 6 })
      .toBuffer();
    mkdirSync(join(editionDir, 'contact'), { recursive: true });
    const rel = contactSheetPath(format);
    await writeFileAtomic(join(editionDir, rel), png);
    written.push(rel);
  }
  return written;
}

/**
 * The sheets on disk for the formats this build drew, as manifest entries
 * (size and sha256 read from the files: a kept sheet is listed as well as a
 * redrawn one). A format without a sheet file is left out.
 */
export async function listContactSheets(
  editionDir: string,
  formats: readonly CardFormat[],
): Promise<ManifestContact[]> {
  const out: ManifestContact[] = [];
  for (const format of formats) {
    const path = contactSheetPath(format);
    const file = join(editionDir, path);
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    const { width = 0, height = 0 } = await sharp(bytes).metadata();
    out.push({ format, path, width, height, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  return out;
}
