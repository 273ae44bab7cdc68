import { crc32, createDeflate, deflateSync } from 'node:zlib';

// A minimal PNG writer for the cards: 8-bit RGBA, no interlacing, filter type 0
// (None) on every row, one IDAT chunk deflated by Node's own zlib in the
// calling thread.
//
// Chosen by measurement (bench/cards.ts prints the table): a card is large flat
// colour areas with text, so unfiltered rows already repeat at the row stride
// and deflate finds them; a Sub/Up/adaptive filter pass costs more CPU (a JS
// loop over 3 MB, or libvips' adaptive filtering) than it saves in bytes at
// these levels. Node's zlib at level 3 takes under half of sharp's time for the
// same pixels (sharp pays for a libvips pipeline, a copy into it and a hop to
// the libuv pool) with files within 10 % of sharp's level 2; level 4 gives
// smaller files than sharp level 2 at about sharp's time. No native addon, no
// thread hop: in a pool worker the encode runs on the worker's own thread.

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const IEND = chunk('IEND', Buffer.alloc(0));

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
  return out;
}

// The filtered-rows buffer is kept for the next card of the same size (at most
// two sizes): a fresh 3–8 MB buffer per card was churn for malloc, whose
// per-thread heaps keep what they once held (issue 16, docs/performance-cards.md).
const rowBuffers: Buffer[] = [];

/** Rows of `pixels` (straight RGBA, width×height×4) behind a filter-type byte 0 each. */
function scanlines(pixels: Uint8Array, width: number, height: number): Buffer {
  const stride = width * 4;
  const size = (stride + 1) * height;
  let out = rowBuffers.find((b) => b.length === size);
  if (!out) {
    out = Buffer.allocUnsafe(size);
    if (rowBuffers.length >= 2) rowBuffers.shift();
    rowBuffers.push(out);
  }
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    out[o] = 0;
    out.set(pixels.subarray(y * stride, (y + 1) * stride), o + 1);
  }
  return out;
}

/** Append a chunk (length, type, data, CRC) to `out` at `at`; returns the offset after it. */
function putChunk(out: Buffer, at: number, type: string, data: Uint8Array): number {
  out.writeUInt32BE(data.length, at);
  out.write(type, at + 4, 'latin1');
  out.set(data, at + 8);
  out.writeUInt32BE(crc32(out.subarray(at + 4, at + 8 + data.length)) >>> 0, at + 8 + data.length);
  return at + 12 + data.length;
}

/** PNG bytes of straight-alpha RGBA pixels; `level` is the zlib level (0–9). */
export function encodePng(pixels: Uint8Array, width: number, height: number, level: number): Buffer {
  if (pixels.length !== width * height * 4) throw new RangeError(`expected ${width}×${height} RGBA pixels`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  // compression 0, filter method 0, interlace 0: already zero
  const idat = deflateSync(scanlines(pixels, width, height), { level, memLevel: 9 });
  // One buffer, one copy of the compressed bytes.
  const out = Buffer.allocUnsafe(SIGNATURE.length + 25 + 12 + idat.length + IEND.length);
  SIGNATURE.copy(out, 0);
  let at = putChunk(out, SIGNATURE.length, 'IHDR', ihdr);
  at = putChunk(out, at, 'IDAT', idat);
  IEND.copy(out, at);
  return out;
}

/**
 * A PNG written a row at a time (8-bit RGB or RGBA), for images too large to
 * hold whole: the contact sheets. Each row gets the PNG filter (None, Sub, Up,
 * Average or Paeth) whose output has the smallest sum of absolute values — the
 * heuristic libpng uses — before Node's zlib deflates it as a stream; only the
 * previous row and the compressed bytes are kept.
 */
export function pngRowWriter(width: number, height: number, channels: 3 | 4, level: number) {
  const stride = width * channels;
  const deflate = createDeflate({ level, memLevel: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (d: Buffer) => out.push(d));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  const prev = new Uint8Array(stride);
  let rows = 0;
  const BATCH = 64;
  let batch = Buffer.allocUnsafe((stride + 1) * BATCH);
  let inBatch = 0;
  const cand = [0, 1, 2, 3, 4].map(() => new Uint8Array(stride));
  const flush = () => {
    if (!inBatch) return;
    deflate.write(batch.subarray(0, inBatch * (stride + 1)));
    batch = Buffer.allocUnsafe((stride + 1) * BATCH);
    inBatch = 0;
  };
  return {
    /** The next row: `stride` bytes of straight RGB(A). */
    row(line: Uint8Array) {
      if (line.length !== stride || rows >= height) throw new RangeError('unexpected PNG row');
      const filter = bestFilter(line, prev, channels, cand);
      const o = inBatch * (stride + 1);
      batch[o] = filter;
      batch.set(filter === 0 ? line : cand[filter]!, o + 1);
      prev.set(line);
      rows++;
      if (++inBatch === BATCH) flush();
    },
    /** The PNG bytes, once every row is in. */
    async end(): Promise<Buffer> {
      if (rows !== height) throw new RangeError(`expected ${height} PNG rows, got ${rows}`);
      flush();
      deflate.end();
      await done;
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(width, 0);
      ihdr.writeUInt32BE(height, 4);
      ihdr[8] = 8;
      ihdr[9] = channels === 4 ? 6 : 2;
      return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', Buffer.concat(out)), IEND]);
    },
  };
}

/** Fill cand[1..4] with the Sub, Up, Average and Paeth rows; return the filter with the smallest sum. */
function bestFilter(line: Uint8Array, prev: Uint8Array, bpp: number, cand: Uint8Array[]): number {
  const sub = cand[1]!;
  const up = cand[2]!;
  const avg = cand[3]!;
  const pae = cand[4]!;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  const n = line.length;
  for (let i = 0; i < n; i++) {
    const x = line[i]!;
    const a = i >= bpp ? line[i - bpp]! : 0;
    const b = prev[i]!;
    const c = i >= bpp ? prev[i - bpp]! : 0;
    const p = a + b - c;
    const pa = Math.abs(p - a);
    const pb = Math.abs(p - b);
    const pc = Math.abs(p - c);
    const pr = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    const v1 = (x - a) & 255;
    const v2 = (x - b) & 255;
    const v3 = (x - ((a + b) >> 1)) & 255;
    const v4 = (x - pr) & 255;
    sub[i] = v1;
    up[i] = v2;
    avg[i] = v3;
    pae[i] = v4;
    s0 += x < 128 ? x : 256 - x;
    s1 += v1 < 128 ? v1 : 256 - v1;
    s2 += v2 < 128 ? v2 : 256 - v2;
    s3 += v3 < 128 ? v3 : 256 - v3;
    s4 += v4 < 128 ? v4 : 256 - v4;
  }
  const sums = [s0, s1, s2, s3, s4];
  let best = 0;
  for (let f = 1; f < 5; f++) if (sums[f]! < sums[best]!) best = f;
  return best;
}
