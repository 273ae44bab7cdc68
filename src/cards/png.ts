import { crc32, deflateSync } from 'node:zlib';

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

/** Rows of `pixels` (straight RGBA, width×height×4) behind a filter-type byte 0 each. */
function scanlines(pixels: Uint8Array, width: number, height: number): Buffer {
  const stride = width * 4;
  const out = Buffer.allocUnsafe((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    out[o] = 0;
    out.set(pixels.subarray(y * stride, (y + 1) * stride), o + 1);
  }
  return out;
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
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), IEND]);
}
