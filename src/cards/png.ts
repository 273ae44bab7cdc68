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
 * hold whole: the contact sheets. Every row gets the Up filter (its difference
 * from the row above) before Node's zlib deflates it as a stream; only the
 * previous row and the compressed bytes are kept. Measured on the sample's six
 * sheets: libpng's adaptive choice per row (all five filters) made files 5 %
 * smaller but took 0.45 s more in JS; Up costs about what libvips took, with
 * files ~15 % larger than its (1.1 MB against 1.0 MB for og).
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
  const up = new Uint8Array(stride);
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
      for (let i = 0; i < stride; i++) up[i] = (line[i]! - prev[i]!) & 255;
      const o = inBatch * (stride + 1);
      batch[o] = 2; // Up
      batch.set(up, o + 1);
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
