import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { fontFiles } from './fonts.ts';
import { type Glyph, setGlyphBacking, takeFresh } from './glyph-cache.ts';

// The glyph cache kept between builds, in out/.cache/glyphs/. A cron build is
// a fresh process: without it every build rasterized the same ~5,500 coverage
// bitmaps of the sample again (~0.7 s of CPU, ~0.2 s of it at the start of a
// one-article rebuild's worker).
//
// A thread reads the store's indexes before its first card (useGlyphStore):
// keys and where each bitmap lies, not the bitmaps. A glyph the cache lacks is
// read from its file (one pread, checked against its CRC) before it is
// rasterized, so a thread holds only the bitmaps it draws (a pool worker keeps
// to one format). What a thread rasterized is written in a file of its own
// (saveGlyphStore), whole, under a temp name then renamed: builds on several
// hosts or workers sharing out/ never write into each other's files. Past
// MAX_FILES a saver merges what the store's index holds for it (every file it
// read, and its own) into one.
//
// Only a cache: a file that is short, corrupt or from other fonts or other
// rasterizer code (its name carries the digest of both) is skipped, and a
// store that cannot be read or written is drawn without. A bitmap is the
// bytes glyph-cache.ts would make, so no pixel depends on the store
// (tests/integration/cards-glyph-store.test.ts).

const require = createRequire(import.meta.url);
const MAGIC = 0x32475342; // 'BSG2', little-endian
const MAX_FILES = 8;
/** A merged file's coverage bytes at most; the newest files' entries first. */
const MAX_MERGED_BYTES = 64 * 1024 * 1024;

/** The packages a bitmap is made with: HarfBuzz, and the fonts (a new release may keep a file's size). */
const PACKAGES = ['harfbuzzjs', '@expo-google-fonts/noto-sans-hk', '@expo-google-fonts/noto-sans-sc'];

let storeDigest: string | undefined;
/** Fonts, the rasterizer's source and its packages' versions: what a bitmap is made from. */
function digest(): string {
  if (storeDigest) return storeDigest;
  const h = createHash('sha256');
  const here = new URL('.', import.meta.url).pathname;
  for (const f of ['glyph-cache.ts', 'glyph-fill.ts', 'glyph-store.ts'])
    h.update(readFileSync(join(here, f)));
  for (const f of fontFiles()) h.update(`${f}:${statSync(f).size}\0`);
  for (const p of PACKAGES)
    h.update(`${p}@${(require(`${p}/package.json`) as { version: string }).version}\0`);
  storeDigest = h.digest('hex').slice(0, 16);
  return storeDigest;
}

/** Where one bitmap is: its file, offset, size and placement, and its CRC. */
interface Entry {
  fd: number;
  at: number;
  w: number;
  h: number;
  ox: number;
  oy: number;
  has: boolean;
  crc: number;
}

let dir: string | undefined;
/** The files this thread read (or wrote) in `dir`, newest first, with their open descriptors. */
let files: { name: string; fd: number }[] = [];
let index = new Map<string, Entry>();

function closeAll(): void {
  for (const f of files) {
    try {
      closeSync(f.fd);
    } catch {
      // already closed
    }
  }
  files = [];
  index = new Map();
}

function lookup(key: string): Glyph | undefined {
  const e = index.get(key);
  if (!e) return undefined;
  const g = read(e);
  if (!g) index.delete(key); // unreadable: rasterized instead
  return g;
}

function read(e: Entry): Glyph | undefined {
  if (!e.has) return { cov: undefined, w: e.w, h: e.h, ox: e.ox, oy: e.oy };
  const cov = new Uint8Array(e.w * e.h);
  try {
    if (readSync(e.fd, cov, 0, cov.length, e.at) !== cov.length) return undefined;
  } catch {
    return undefined;
  }
  if (crc32(cov) >>> 0 !== e.crc) return undefined;
  return { cov, w: e.w, h: e.h, ox: e.ox, oy: e.oy };
}

/** Read the indexes of the store in `folder`, once per folder (again after resetGlyphStore). Never throws. */
export function useGlyphStore(folder: string): void {
  if (dir === folder) return;
  closeAll();
  dir = folder;
  setGlyphBacking(lookup);
  try {
    readIndexes(folder);
  } catch {
    // No store yet, an unreadable one, or no fonts to make a digest of (the card will say so).
  }
}

function readIndexes(folder: string): void {
  const prefix = `g-${digest()}-`;
  const names = readdirSync(folder).filter((n) => n.startsWith(prefix) && n.endsWith('.bin'));
  // Newest first: a key in two files is taken from the newer.
  const dated = names
    .map((n) => ({ n, t: statSync(join(folder, n), { throwIfNoEntry: false })?.mtimeMs ?? -1 }))
    .filter((x) => x.t >= 0)
    .sort((a, b) => b.t - a.t);
  for (const { n } of dated) {
    let fd: number;
    try {
      fd = openSync(join(folder, n), 'r');
    } catch {
      continue; // removed by a merge since readdir
    }
    const entries = readIndex(fd);
    if (!entries) {
      closeSync(fd);
      continue;
    }
    files.push({ name: n, fd });
    for (const [key, e] of entries) if (!index.has(key)) index.set(key, e);
  }
}

/**
 * Write the bitmaps this thread rasterized since its last save; merge the
 * store when it has grown past MAX_FILES. Never throws: a full disk or a
 * read-only out/ costs the next build these glyphs, nothing else.
 */
export function saveGlyphStore(): void {
  if (!dir) return;
  const fresh = takeFresh();
  if (!fresh.length) return;
  try {
    const prefix = `g-${digest()}-`;
    const name = `${prefix}${process.pid}-${threadId}-${randomBytes(4).toString('hex')}.bin`;
    const merge = files.length + 1 > MAX_FILES;
    const file = encode(merge ? [...fresh, ...everythingHeld(new Set(fresh.map(([k]) => k)))] : fresh);
    // Whole or not at all (temp name, then rename), through the project's one write path.
    writeFileAtomicSync(join(dir, name), file.data);
    if (!merge) {
      // Counted among this thread's files, so that a long-lived process (the daemon) merges too,
      // and indexed from what was just encoded (not read back).
      const fd = openSync(join(dir, name), 'r');
      files.push({ name, fd });
      for (const [key, e] of file.entries) if (!index.has(key)) index.set(key, { ...e, fd });
    }
    // Files of other fonts or other rasterizer code are never read again.
    for (const n of readdirSync(dir))
      if (n.startsWith('g-') && n.endsWith('.bin') && !n.startsWith(prefix))
        rmSync(join(dir, n), { force: true });
    if (!merge) return;
    for (const f of files) rmSync(join(dir, f.name), { force: true });
    // The merged file holds what this thread read: read the store afresh next time.
    const folder = dir;
    resetGlyphStore();
    useGlyphStore(folder);
  } catch {
    // A cache: the next build rasterizes these glyphs again.
  }
}

/** Every bitmap the store's index holds for this thread (not in `skip`), in index order, up to MAX_MERGED_BYTES. */
function everythingHeld(skip: Set<string>): [string, Glyph][] {
  const out: [string, Glyph][] = [];
  let bytes = 0;
  for (const [key, e] of index) {
    const size = e.has ? e.w * e.h : 0; // a blank glyph (a space) has no coverage bytes
    if (skip.has(key) || bytes + size > MAX_MERGED_BYTES) continue;
    const g = read(e);
    if (!g) continue;
    bytes += size;
    out.push([key, g]);
  }
  return out;
}

/** Forget the folder and close its files (tests: read the store again). */
export function resetGlyphStore(): void {
  closeAll();
  dir = undefined;
  setGlyphBacking(undefined);
}

// A file: u32 magic, u32 count, u32 index bytes; the index, per entry u8 key
// length, the key (ASCII), u16 w, u16 h, i16 ox, i16 oy, u8 has-coverage,
// u32 offset of its coverage from the file's start, u32 CRC-32 of it; the
// CRC-32 of the header and index; then the coverage bytes, w×h each.
const ENTRY = 1 + 2 + 2 + 2 + 2 + 1 + 4 + 4;

/** A store file's bytes, and where each entry's bitmap lies in them. */
function encode(entries: [string, Glyph][]): { data: Buffer; entries: [string, Omit<Entry, 'fd'>][] } {
  const placed: [string, Omit<Entry, 'fd'>][] = [];
  let indexBytes = 0;
  let dataBytes = 0;
  for (const [k, g] of entries) {
    indexBytes += ENTRY + k.length;
    if (g.cov) dataBytes += g.cov.length;
  }
  const head = 12 + indexBytes + 4;
  const out = Buffer.allocUnsafe(head + dataBytes);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(entries.length, 4);
  out.writeUInt32LE(indexBytes, 8);
  let at = 12;
  let data = head;
  for (const [k, g] of entries) {
    out[at++] = k.length;
    at += out.write(k, at, 'latin1');
    out.writeUInt16LE(g.w, at);
    out.writeUInt16LE(g.h, at + 2);
    out.writeInt16LE(g.ox, at + 4);
    out.writeInt16LE(g.oy, at + 6);
    const crc = g.cov ? crc32(g.cov) >>> 0 : 0;
    out[at + 8] = g.cov ? 1 : 0;
    out.writeUInt32LE(g.cov ? data : 0, at + 9);
    out.writeUInt32LE(crc, at + 13);
    at += ENTRY - 1;
    placed.push([k, { at: g.cov ? data : 0, w: g.w, h: g.h, ox: g.ox, oy: g.oy, has: Boolean(g.cov), crc }]);
    if (g.cov) {
      out.set(g.cov, data);
      data += g.cov.length;
    }
  }
  out.writeUInt32LE(crc32(out.subarray(0, at)) >>> 0, at);
  return { data: out, entries: placed };
}

/** A file's index, or undefined when it is not a store file (wrong magic, short, bad checksum, bitmaps past its end). */
function readIndex(fd: number): [string, Entry][] | undefined {
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(12);
    if (size < 16 || readSync(fd, head, 0, 12, 0) !== 12 || head.readUInt32LE(0) !== MAGIC) return undefined;
    const count = head.readUInt32LE(4);
    const indexBytes = head.readUInt32LE(8);
    if (12 + indexBytes + 4 > size) return undefined;
    const idx = Buffer.alloc(indexBytes + 4);
    if (readSync(fd, idx, 0, idx.length, 12) !== idx.length) return undefined;
    const crc = crc32(idx.subarray(0, indexBytes), crc32(head)) >>> 0;
    if (crc !== idx.readUInt32LE(indexBytes)) return undefined;
    const out: [string, Entry][] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 1 > indexBytes) return undefined;
      const kl = idx[at++]!;
      if (at + kl + ENTRY - 1 > indexBytes) return undefined;
      const key = idx.toString('latin1', at, at + kl);
      at += kl;
      const e: Entry = {
        fd,
        w: idx.readUInt16LE(at),
        h: idx.readUInt16LE(at + 2),
        ox: idx.readInt16LE(at + 4),
        oy: idx.readInt16LE(at + 6),
        has: idx[at + 8] === 1,
        at: idx.readUInt32LE(at + 9),
        crc: idx.readUInt32LE(at + 13),
      };
      at += ENTRY - 1;
      if (e.has && e.at + e.w * e.h > size) return undefined;
      out.push([key, e]);
    }
    return at === indexBytes ? out : undefined;
  } catch {
    return undefined;
  }
}
