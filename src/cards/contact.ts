import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import sharp from 'sharp';
import type { ManifestCard, ManifestContact } from '../jobs/manifest.ts';
import { tempFor, writeFileAtomic } from '../util/atomic.ts';
import type { CardFormat } from './config.ts';
import { FORMATS } from './formats.ts';
import { deflateSegment, pngFromSegments, type Segment } from './png-segments.ts';

// A contact sheet per edition and format (`<edition>/contact/<format>.png`):
// every card of that format, in the edition's order, on one page an editor
// can download from the gallery and check or forward at a glance.

/** Thumbnail width in the sheet and cards per row: wide cards 3 across, the rest 5. */
const LAYOUT = (f: CardFormat) =>
  FORMATS[f].shape === 'wide' || FORMATS[f].shape === 'banner' ? { w: 480, cols: 3 } : { w: 300, cols: 5 };
const GAP = 16;
const BACKGROUND = [0xd9, 0xd4, 0xcc];

/** Row `y` of a thumbnail (RGB or RGBA, straight alpha) over the sheet's RGB row. */
function blitRow(
  line: Uint8Array,
  t: { data: Buffer; width: number; channels: number; left: number },
  y: number,
): void {
  const ch = t.channels;
  const n = Math.min(t.width, line.length / 3 - t.left);
  let s = y * t.width * ch;
  let d = t.left * 3;
  // An opaque RGB thumbnail (every card is one now): its row as it is.
  if (ch === 3) {
    line.set(t.data.subarray(s, s + n * 3), d);
    return;
  }
  for (let x = 0; x < n; x++, s += ch, d += 3) {
    const a = ch === 4 ? t.data[s + 3]! : 255;
    if (a === 255) {
      line[d] = t.data[s]!;
      line[d + 1] = t.data[s + 1]!;
      line[d + 2] = t.data[s + 2]!;
    } else {
      const k = a / 255;
      for (let c = 0; c < 3; c++) line[d + c] = Math.round(t.data[s + c]! * k + line[d + c]! * (1 - k));
    }
  }
}

export const contactSheetPath = (format: CardFormat) => `contact/${format}.png`;

// Thumbnails kept between builds in <edition>/contact/.thumbs/, named by the
// card's sha256 and the thumbnail size: a rebuild that redrew a few cards
// decodes and resizes only those (issue 16: the six sheets were the largest
// part of a one-article rebuild). The pixels are sharp's resize, as before,
// stored raw and deflated (level 1): `BST1`, width, height (u16 BE),
// channels (u8), then the data. A file whose data does not inflate to exactly
// width × height × channels is a miss. Written without fsync (a cache: a torn
// file is a miss); thumbnails of cards no longer in the edition are removed.
const THUMBS = 'contact/.thumbs';
type Thumb = { data: Buffer; width: number; height: number; channels: number };

/**
 * A cache entry's bytes, read by `parse` when it starts with `magic` and
 * holds at least `head` bytes; undefined (a miss) for a missing, short,
 * foreign or damaged one (`parse` may throw or answer undefined).
 */
function readCacheFile<T>(file: string, magic: string, head: number, parse: (b: Buffer) => T | undefined) {
  try {
    const b = readFileSync(file);
    return b.length >= head && b.toString('latin1', 0, 4) === magic ? parse(b) : undefined;
  } catch {
    return undefined;
  }
}

const readThumb = (file: string): Thumb | undefined =>
  readCacheFile(file, 'BST1', 9, (b) => {
    const width = b.readUInt16BE(4);
    const height = b.readUInt16BE(6);
    const channels = b[8]!;
    const data = inflateRawSync(b.subarray(9));
    return data.length === width * height * channels ? { data, width, height, channels } : undefined;
  });

function writeThumb(file: string, t: Thumb): void {
  const head = Buffer.alloc(9);
  head.write('BST1', 0, 'latin1');
  head.writeUInt16BE(t.width, 4);
  head.writeUInt16BE(t.height, 6);
  head[8] = t.channels;
  writeCacheFile(file, Buffer.concat([head, deflateRawSync(t.data, { level: 1 })]));
}

/** A cache entry written whole (temp file, rename) without fsync: a torn or missing one is a miss. */
function writeCacheFile(file: string, bytes: Buffer): void {
  const tmp = tempFor(file);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true }); // a cache that cannot be written costs only time
  }
}

/** The thumbnail's cache name (by the card's sha256), or undefined for a card without one. */
const thumbName = (card: ManifestCard, w: number, h: number) =>
  /^[0-9a-f]{64}$/.test(card.sha256) ? `${card.sha256}-${w}x${h}.thumb` : undefined;

async function thumbnail(editionDir: string, card: ManifestCard, w: number, h: number): Promise<Thumb> {
  const name = thumbName(card, w, h);
  const file = name && join(editionDir, THUMBS, name);
  const cached = file ? readThumb(file) : undefined;
  if (cached) return cached;
  const { data, info } = await sharp(join(editionDir, card.path))
    .resize(w, h)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const t = { data, width: info.width, height: info.height, channels: info.channels };
  if (file) writeThumb(file, t);
  return t;
}

// Each band of a sheet (a row of thumbnails and the gap under it) is deflated
// on its own (png-segments.ts) and kept in <edition>/contact/.bands/, named by
// a hash of what it shows: the format, the sheet's width, the cards' sha256s
// in it and the zlib level. A rebuild that redrew one card per format then
// compresses one band per sheet and copies the rest: in a one-article rebuild
// the six sheets took 0.65 s, most of it inflating 234 thumbnails, blitting
// their rows and deflating every band again. A band file is `BSB2`, the rows'
// length and Adler-32 (u32 BE each), the CRC-32 of the deflated bytes, then
// those bytes; one whose CRC does not match is a miss. Written without fsync,
// as the thumbnails are; bands no build uses any more are removed.
const BANDS = 'contact/.bands';
const SHEET_LEVEL = 3;

const readBand = (file: string): Segment | undefined =>
  readCacheFile(file, 'BSB2', 16, (b) => {
    const data = b.subarray(16);
    if (crc32(data) >>> 0 !== b.readUInt32BE(12)) return undefined;
    return { data, length: b.readUInt32BE(4), adler: b.readUInt32BE(8) };
  });

function writeBand(file: string, seg: Segment): void {
  const head = Buffer.alloc(16);
  head.write('BSB2', 0, 'latin1');
  head.writeUInt32BE(seg.length, 4);
  head.writeUInt32BE(seg.adler, 8);
  head.writeUInt32BE(crc32(seg.data) >>> 0, 12);
  writeCacheFile(file, Buffer.concat([head, seg.data]));
}

/**
 * Every format's sheet, as many at the same time as there are CPUs: one
 * sheet's thumbnails decode (sharp) and its bands deflate (zlib) on libuv's
 * threads while another blits rows here. More at once only holds more
 * thumbnails and bands: all six at once on 2 cores made a full build's peak
 * RSS (368–386 MB against 343–345 with two, the sheets 2.9–3.1 s against 3.6–3.8; the
 * sample, in-process, 2 runs each). Returns the sheets written, in `formats` order.
 */
export async function writeContactSheets(
  editionDir: string,
  cards: ManifestCard[],
  formats: readonly CardFormat[],
  atOnce = Math.max(2, availableParallelism()),
): Promise<string[]> {
  const keep = new Set<string>();
  for (const d of [THUMBS, BANDS]) mkdirSync(join(editionDir, d), { recursive: true });
  const written: (string | undefined)[] = new Array(formats.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < formats.length; i = next++)
      written[i] = await writeSheet(editionDir, cards, formats[i]!, keep);
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, formats.length) }, lane));
  for (const d of [THUMBS, BANDS])
    for (const name of readdirSync(join(editionDir, d)))
      if (!keep.has(name)) rmSync(join(editionDir, d, name), { force: true });
  return written.filter((w): w is string => w !== undefined);
}

/** One format's sheet (its path), or undefined when the format has no card on disk. */
async function writeSheet(
  editionDir: string,
  cards: ManifestCard[],
  format: CardFormat,
  keep: Set<string>,
): Promise<string | undefined> {
  const mine = cards.filter((c) => c.format === format && existsSync(join(editionDir, c.path)));
  if (!mine.length) return undefined;
  const { w, cols } = LAYOUT(format);
  const h = Math.round((w * FORMATS[format].height) / FORMATS[format].width);
  const rows = Math.ceil(mine.length / cols);
  const width = GAP + Math.min(cols, mine.length) * (w + GAP);
  const height = GAP + rows * (h + GAP);
  // Built a band at a time into a PNG of unfiltered rows (png-segments.ts):
  // composing the whole sheet in libvips held every thumbnail and the full
  // sheet at once (~45 MB for the og sheet, more in libvips' per-thread heaps,
  // which never shrink), on top of the card stage's peak. The same thumbnails
  // (sharp's resize) on the same background: the same pixels as the libvips
  // composite, in an opaque RGB file. Unfiltered at level 3, not Up at level
  // 6: the six sample sheets 2–8.5 % larger (og 1.20 against 1.18 MB), with
  // no filter pass in JS (docs/performance-start-rebuild.md).
  const stride = width * 3 + 1;
  const blank = Buffer.alloc(stride);
  for (let x = 0; x < width; x++) blank.set(BACKGROUND, 1 + x * 3);
  const gapRows = (n: number, into: Buffer, at: number) => {
    for (let y = 0; y < n; y++) blank.copy(into, at + y * stride);
  };
  const top = Buffer.allocUnsafe(GAP * stride);
  gapRows(GAP, top, 0);
  const segments: Segment[] = [await deflateSegment(top, SHEET_LEVEL)];
  for (let r = 0; r < rows; r++) {
    const band = mine.slice(r * cols, (r + 1) * cols);
    const names = band.map((c) => thumbName(c, w, h));
    for (const n of names) if (n) keep.add(n);
    const key = names.every(Boolean)
      ? `${createHash('sha256')
          .update(JSON.stringify({ format, width, w, h, cols, level: SHEET_LEVEL, names }))
          .digest('hex')}.band`
      : undefined;
    if (key) keep.add(key);
    const file = key && join(editionDir, BANDS, key);
    const kept = file ? readBand(file) : undefined;
    if (kept) {
      segments.push(kept);
      continue;
    }
    const tiles: (Thumb & { left: number })[] = [];
    for (let i = 0; i < band.length; i++) {
      const t = await thumbnail(editionDir, band[i]!, w, h);
      tiles.push({ ...t, left: GAP + i * (w + GAP) });
    }
    const raw = Buffer.allocUnsafe((h + GAP) * stride);
    for (let y = 0; y < h; y++) {
      const line = raw.subarray(y * stride + 1, (y + 1) * stride);
      blank.copy(raw, y * stride);
      for (const t of tiles) if (y < t.height) blitRow(line, t, y);
    }
    gapRows(GAP, raw, h * stride);
    const seg = await deflateSegment(raw, SHEET_LEVEL);
    if (file) writeBand(file, seg);
    segments.push(seg);
  }
  const bytes = pngFromSegments(width, height, 3, segments);
  mkdirSync(join(editionDir, 'contact'), { recursive: true });
  const rel = contactSheetPath(format);
  await writeFileAtomic(join(editionDir, rel), bytes);
  return rel;
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
