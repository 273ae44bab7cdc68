import { promisify } from 'node:util';
import { constants, deflateRaw } from 'node:zlib';
import { chunk, header, IEND, SIGNATURE } from './png.ts';

// A PNG whose image data is deflated in independent segments of whole rows
// (the contact sheets: one segment per band of thumbnails, src/cards/contact.ts),
// so that a segment whose rows have not changed can be kept from the last
// build instead of compressed again.
//
// Each segment is raw deflate ending in a sync flush (non-final blocks, byte
// aligned, no back-reference into another segment): segments simply follow
// each other in the zlib stream, which ends with an empty final block and the
// Adler-32 of all the rows, combined from each segment's own (zlib's
// adler32_combine). Any PNG decoder reads it as one stream.

const deflateRawAsync = promisify(deflateRaw);

/** Rows (each behind its filter byte) deflated on libuv's threads, with their Adler-32 and length. */
export interface Segment {
  data: Buffer;
  adler: number;
  length: number;
}

const BASE = 65521;
/** Adler-32 of `buf` (RFC 1950), `start` being the running value (1 for none). */
export function adler32(buf: Uint8Array, start = 1): number {
  let a = start & 0xffff;
  let b = start >>> 16;
  let i = 0;
  while (i < buf.length) {
    // 5552: the most bytes before b can overflow 2^32 (zlib's NMAX).
    const end = Math.min(buf.length, i + 5552);
    for (; i < end; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= BASE;
    b %= BASE;
  }
  return ((b << 16) | a) >>> 0;
}

/** The Adler-32 of A followed by B, from A's, B's and B's length (zlib's adler32_combine). */
export function adler32Combine(adlerA: number, adlerB: number, lengthB: number): number {
  const rem = lengthB % BASE;
  let sum1 = adlerA & 0xffff;
  let sum2 = (rem * sum1) % BASE;
  sum1 += (adlerB & 0xffff) + BASE - 1;
  sum2 += (adlerA >>> 16) + (adlerB >>> 16) + BASE - rem;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum2 >= 2 * BASE) sum2 -= 2 * BASE;
  if (sum2 >= BASE) sum2 -= BASE;
  return ((sum2 << 16) | sum1) >>> 0;
}

export async function deflateSegment(rows: Uint8Array, level: number): Promise<Segment> {
  const data = await deflateRawAsync(rows, {
    level,
    memLevel: 9,
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  return { data, adler: adler32(rows), length: rows.length };
}

// zlib header: deflate, 32 KB window, no dictionary (0x78 0x01 is a multiple of 31).
const ZLIB_HEAD = Buffer.from([0x78, 0x01]);
// An empty final block with fixed codes: BFINAL 1, BTYPE 01, end-of-block.
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** The PNG (8-bit RGB or RGBA) whose rows are `segments`, in order. */
export function pngFromSegments(width: number, height: number, channels: 3 | 4, segments: Segment[]): Buffer {
  const rows = segments.reduce((n, s) => n + s.length, 0);
  if (rows !== (width * channels + 1) * height)
    throw new RangeError(`segments hold ${rows} bytes of rows, expected ${(width * channels + 1) * height}`);
  let adler = 1;
  for (const s of segments) adler = adler32Combine(adler, s.adler, s.length);
  const tail = Buffer.allocUnsafe(4);
  tail.writeUInt32BE(adler, 0);
  const idat = Buffer.concat([ZLIB_HEAD, ...segments.map((s) => s.data), FINAL_BLOCK, tail]);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header(width, height, channels === 4 ? 6 : 2)),
    chunk('IDAT', idat),
    IEND,
  ]);
}
