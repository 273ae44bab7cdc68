import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../../util/atomic.ts';

// Crops of a card's photo or portrait, kept under out/.cache/crops/ by what
// they are made from: the source image's bytes, the format, the focus point
// and how the crop is made (libvips' version, this file's CROP_VERSION). A
// rebuild — unchanged, or with one article's text edited — then reads 24+
// small files instead of decoding and resizing every photo again with
// libvips for every format (issue 16: ~0.1–0.5 s of a one-article rebuild,
// and libvips' allocations under the card stage's memory peak).
//
// An entry is the card's data: URI, written whole (temp file, fsync, rename)
// and checked on read: anything else is a miss and is made again. Entries not
// written for 30 days are removed at the end of a build that used the cache.

/** Bump when cropPhoto/cropPortrait change what they make. */
const CROP_VERSION = 1;
const MAX_AGE_MS = 30 * 24 * 3600_000;

/** The source's own hash, once per Buffer: a photo is cropped for six formats. */
const sourceHashes = new WeakMap<Uint8Array, string>();

export function cropKey(parts: Record<string, unknown>, bytes: Uint8Array): string {
  let source = sourceHashes.get(bytes);
  if (!source) {
    source = createHash('sha256').update(bytes).digest('hex');
    sourceHashes.set(bytes, source);
  }
  return createHash('sha256')
    .update(JSON.stringify({ v: CROP_VERSION, vips: sharp.versions.vips, ...parts, source }))
    .digest('hex');
}

export async function cachedCrop(dir: string, key: string, make: () => Promise<string>): Promise<string> {
  const file = join(dir, `${key}.uri`);
  try {
    const text = readFileSync(file, 'latin1');
    if (/^data:image\/(jpeg|png);base64,[A-Za-z0-9+/]+=*$/.test(text)) return text;
  } catch {
    // a miss
  }
  const uri = await make();
  // A cache that cannot be written (read-only out/) costs only the next build's time.
  await writeFileAtomic(file, uri).catch(() => undefined);
  return uri;
}

/** Remove entries older than 30 days (by mtime). */
export function pruneCrops(dir: string, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith('.uri')) continue;
    const file = join(dir, name);
    try {
      if (now - statSync(file).mtimeMs > MAX_AGE_MS) rmSync(file, { force: true });
    } catch {
      // gone meanwhile
    }
  }
}
