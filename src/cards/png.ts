import { constants, crc32, deflateSync } from 'node:zlib';

// A minimal PNG writer for the cards: 8-bit indexed when the card has ≤ 256
// colours, else RGB (RGBA when some pixel is not opaque), no interlacing, filter type 0
// (None) on every row, one IDAT chunk deflated by Node's own zlib in the
// calling thread.
//
// Chosen by measurement (bench/cards.ts prints the table): a card is large flat
// colour areas with text, so unfiltered rows already repeat at the row stride
// and deflate finds them; a Sub/Up/adaptive filter pass costs more CPU (a JS
// loop over 3 MB, or libvips' adaptive filtering) than it saves in bytes at
// these levels, and made files larger at levels 1–3. Every card is opaque (a
// page-filling background), so it is written as RGB: the alpha bytes dropped
// in a word-packing pass (~0.9 ms for og) that zlib then saves on 25 % less
// input. Level 3 RGB: og files 1 % smaller than sharp's level 2 (RGBA was
// +10.5 %), at ~0.8× its CPU time. memLevel 8 (zlib's default hash size, not
// 9): 3–5 % less encode CPU and ~0.5 % smaller files in every format, same
// run. No native addon, no thread hop: in a pool worker the encode runs on
// the worker's own thread. cardPngLevel: WeChat and story cards at level 4.
// Indexed rows are deflated with Z_RLE (below): faster and smaller than the
// default strategy on every format's text cards.

export const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const IEND = chunk('IEND', Buffer.alloc(0));

/**
 * IHDR's data for 8-bit samples of `colourType` (2 RGB, 3 indexed, 6 RGBA);
 * compression 0, filter method 0, no interlacing.
 */
export function header(width: number, height: number, colourType: 2 | 3 | 6): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = colourType;
  return ihdr;
}

/** A PNG chunk: length, type, data, CRC-32. */
export function chunk(type: string, data: Uint8Array): Buffer {
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

/**
 * A buffer of `size` bytes for a card's rows, reused: kept at a power of two
 * (at most two kept), so the next card of another format usually fits in one
 * already paged in. Only the first `size` bytes are the rows.
 */
function rowBuffer(size: number): Buffer {
  let out = rowBuffers.find((b) => b.length >= size);
  if (!out) {
    out = Buffer.allocUnsafe(2 ** Math.ceil(Math.log2(size)));
    if (rowBuffers.length >= 2) rowBuffers.shift();
    rowBuffers.push(out);
  }
  return out.subarray(0, size);
}

/** Rows of `pixels` (straight RGBA, width×height×4) behind a filter-type byte 0 each. */
function scanlines(pixels: Uint8Array, width: number, height: number): Buffer {
  const stride = width * 4;
  const out = rowBuffer((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    out[o] = 0;
    out.set(pixels.subarray(y * stride, (y + 1) * stride), o + 1);
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
// One row of packed RGB, as 32-bit words (4 pixels → 3 words), reused.
let packed = new Uint32Array(0);

/**
 * Rows of RGB (the alpha byte dropped) behind a filter-type byte 0 each, or
 * undefined when some pixel is not fully opaque (or the pixels cannot be read
 * as aligned little-endian words): then the card is written as RGBA.
 */
function rgbScanlines(pixels: Uint8Array, width: number, height: number): Buffer | undefined {
  if (!LITTLE_ENDIAN || pixels.byteOffset & 3) return undefined;
  const stride = width * 3;
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, width * height);
  const need = Math.ceil(stride / 4);
  if (packed.length < need) packed = new Uint32Array(need);
  // Locals, not the module's binding, and one row view made once: 0.74× the
  // CPU of the same loop over `packed` with a subarray per row (same bytes).
  const pk = packed;
  const out = rowBuffer((stride + 1) * height);
  const w4 = width & ~3;
  const row = new Uint8Array(pk.buffer, 0, w4 * 3);
  const n = (w4 / 4) * 3;
  let alpha = 0xffffffff;
  for (let y = 0; y < height; y++) {
    let i = y * width;
    // Four RGBA words → three RGB words (little-endian: R is the low byte).
    for (let o = 0; o < n; o += 3, i += 4) {
      const a = words[i]!;
      const b = words[i + 1]!;
      const c = words[i + 2]!;
      const d = words[i + 3]!;
      alpha &= a & b & c & d;
      pk[o] = (a & 0xffffff) | (b << 24);
      pk[o + 1] = ((b >>> 8) & 0xffff) | (c << 16);
      pk[o + 2] = ((c >>> 16) & 0xff) | (d << 8);
    }
    const at = y * (stride + 1);
    out[at] = 0;
    out.set(row, at + 1);
    for (let x = w4; x < width; x++, i++) {
      const v = words[i]!;
      alpha &= v;
      const q = at + 1 + x * 3;
      out[q] = v & 0xff;
      out[q + 1] = (v >>> 8) & 0xff;
      out[q + 2] = (v >>> 16) & 0xff;
    }
  }
  return alpha >>> 24 === 0xff ? out : undefined;
}

/** Colours of an indexed card: the PLTE chunk's RGB triples and, when some colour is not opaque, tRNS's alphas. */
interface Palette {
  rgb: Buffer;
  alpha: Buffer | undefined;
}

const slotKeys = new Int32Array(1024);
const slotValues = new Uint16Array(1024);

/**
 * Rows of palette indices (one byte a pixel) behind a filter-type byte 0
 * each, with the palette in order of first appearance, or undefined when the
 * card has more than 256 colours (a photo, a portrait) or its pixels cannot
 * be read as aligned little-endian words. Most pixels repeat the one before
 * (flat colour, then a glyph's edge), so the colour table is asked only where the
 * colour changes.
 */
export function paletteScanlines(
  pixels: Uint8Array,
  width: number,
  height: number,
): { rows: Buffer; palette: Palette } | undefined {
  if (!LITTLE_ENDIAN || pixels.byteOffset & 3) return undefined;
  const stride = width + 1;
  const out = rowBuffer(stride * height);
  const colours: number[] = [];
  if (!indexRows(pixels, width, height, out, colours)) return undefined;
  return { rows: out, palette: paletteOf(colours) };
}

/**
 * paletteScanlines' loop: fills `out` with the rows of indices and `colours`
 * with the palette; false past 256 colours. Its own function, returning a
 * boolean: V8 optimizes it mid-loop (on-stack replacement) on a card's first
 * rows, and code after such a loop that builds objects had no type feedback
 * yet, so the optimized loop was thrown away at its end, card after card
 * (--trace-deopt: 23 times in 300 og cards of one kind, each a recompile on
 * V8's background threads).
 */
function indexRows(
  pixels: Uint8Array,
  width: number,
  height: number,
  out: Buffer,
  colours: number[],
): boolean {
  // Int32, not Uint32: values stay small integers for V8 (no heap numbers).
  const words = new Int32Array(pixels.buffer, pixels.byteOffset, width * height);
  const bytes = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const stride = width + 1;
  // An open-addressed table of the colours seen (≤ 256 in 1,024 slots): slot
  // value 0 is empty, else the palette index + 1. Cheaper than a Map where
  // the colour changes at every pixel (a glyph's anti-aliased edge).
  slotValues.fill(0);
  let last = words[0]! ^ 1; // differs from the first pixel
  let k = 0;
  for (let y = 0; y < height; y++) {
    const at = y * stride;
    out[at] = 0;
    // A row the same as the one above (blank page between lines of text) is
    // compared and copied natively.
    const row = y * width * 4;
    if (y > 0 && bytes.compare(bytes, row - width * 4, row, row, row + width * 4) === 0) {
      out.copyWithin(at + 1, at + 1 - stride, at);
      continue;
    }
    let i = y * width;
    const end = i + width;
    let o = at + 1;
    while (i < end) {
      const v = words[i]!;
      if (v !== last) {
        let h = Math.imul(v, 0x9e3779b1) >>> 22;
        while (slotValues[h] !== 0 && slotKeys[h] !== v) h = (h + 1) & 1023;
        if (slotValues[h] === 0) {
          if (colours.length === 256) return false;
          colours.push(v);
          slotKeys[h] = v;
          slotValues[h] = colours.length;
        }
        last = v;
        k = slotValues[h]! - 1;
      }
      // The run of this colour, filled at once.
      let j = i + 1;
      while (j < end && words[j] === v) j++;
      if (j - i > 8) out.fill(k, o, o + (j - i));
      else for (let q = o; q < o + (j - i); q++) out[q] = k;
      o += j - i;
      i = j;
    }
  }
  return true;
}

/**
 * PLTE's triples and tRNS's alphas of the colours (little-endian RGBA words).
 */
function paletteOf(colours: number[]): Palette {
  const rgb = Buffer.allocUnsafe(colours.length * 3);
  const alpha = Buffer.allocUnsafe(colours.length);
  let opaque = true;
  for (let n = 0; n < colours.length; n++) {
    const v = colours[n]!;
    rgb[n * 3] = v & 0xff;
    rgb[n * 3 + 1] = (v >>> 8) & 0xff;
    rgb[n * 3 + 2] = (v >>> 16) & 0xff;
    alpha[n] = (v >>> 24) & 0xff;
    if (alpha[n] !== 255) opaque = false;
  }
  return { rgb, alpha: opaque ? undefined : alpha };
}

/** Append a chunk (length, type, data, CRC) to `out` at `at`; returns the offset after it. */
function putChunk(out: Buffer, at: number, type: string, data: Uint8Array): number {
  out.writeUInt32BE(data.length, at);
  out.write(type, at + 4, 'latin1');
  out.set(data, at + 8);
  out.writeUInt32BE(crc32(out.subarray(at + 4, at + 8 + data.length)) >>> 0, at + 8 + data.length);
  return at + 12 + data.length;
}

/**
 * PNG bytes of straight-alpha RGBA pixels; `level` is the zlib level (0–9).
 * A card of at most 256 colours (any text-only card: its background, its
 * text colours and their anti-aliased edges, 80–190 colours in the sample)
 * is written indexed: one byte a pixel, the same pixels once decoded, a
 * third of the bytes for zlib. Measured on the sample's cards of every
 * format (.probe, same run): encode 0.5–0.6× the RGB path's time, files
 * 0.69–0.74× its bytes. Otherwise a card whose every pixel is opaque (drawn
 * on a page-filling background) is written as 8-bit RGB: a quarter fewer
 * bytes for zlib than RGBA, files ~10 % smaller at level 3; anything else RGBA.
 */
export function encodePng(
  pixels: Uint8Array,
  width: number,
  height: number,
  level: number,
  /**
   * keepAlpha: RGBA even when every pixel is opaque (the bench's comparison);
   * truecolour: not indexed, even with ≤ 256 colours (a card with a photo,
   * whose colours are not worth counting; the bench's comparison);
   * indexedLevel: the zlib level when the card is indexed, `level` unless given;
   * memLevel: zlib's (hash table size), 8 unless given;
   * defaultStrategy: indexed rows with zlib's default strategy, not Z_RLE (the bench's comparison).
   */
  opts: {
    keepAlpha?: boolean;
    truecolour?: boolean;
    indexedLevel?: number;
    memLevel?: number;
    defaultStrategy?: boolean;
  } = {},
): Buffer {
  if (pixels.length !== width * height * 4) throw new RangeError(`expected ${width}×${height} RGBA pixels`);
  const indexed = opts.keepAlpha || opts.truecolour ? undefined : paletteScanlines(pixels, width, height);
  const rgb = indexed || opts.keepAlpha ? undefined : rgbScanlines(pixels, width, height);
  const ihdr = header(width, height, indexed ? 3 : rgb ? 2 : 6);
  const rows = indexed?.rows ?? rgb ?? scanlines(pixels, width, height);
  const idat = deflateSync(rows, {
    level: indexed ? (opts.indexedLevel ?? level) : level,
    memLevel: opts.memLevel ?? 8,
    // Indexed rows are runs of one palette index (flat colour between glyph
    // edges): run-length matching alone (distance 1) finds them and skips the
    // hash search. Every sample card of every format, same run: 0.6–0.8× the
    // deflate time and 0.79–0.92× the bytes of the default strategy at the
    // same level (og 0.81 → 0.55 ms, 23.0 → 20.2 KB; story 1.54 → 1.1–1.3 ms,
    // 31.6 → 24.9 KB). Truecolour rows (photos) keep the default: few runs.
    strategy: indexed && !opts.defaultStrategy ? constants.Z_RLE : constants.Z_DEFAULT_STRATEGY,
  });
  const plte = indexed?.palette.rgb;
  const trns = indexed?.palette.alpha;
  const extra = (plte ? 12 + plte.length : 0) + (trns ? 12 + trns.length : 0);
  // One buffer, one copy of the compressed bytes.
  const out = Buffer.allocUnsafe(SIGNATURE.length + 25 + extra + 12 + idat.length + IEND.length);
  SIGNATURE.copy(out, 0);
  let at = putChunk(out, SIGNATURE.length, 'IHDR', ihdr);
  if (plte) at = putChunk(out, at, 'PLTE', plte);
  if (trns) at = putChunk(out, at, 'tRNS', trns);
  at = putChunk(out, at, 'IDAT', idat);
  IEND.copy(out, at);
  return out;
}

/**
 * The zlib level a truecolour card (a photo or portrait: more than 256
 * colours) of `format` is written at, given the configured one. An indexed
 * card is written at the configured level in every format: indexed, WeChat
 * and story cards are already 0.77× and 0.81× today's RGB level-4 bytes at
 * level 3 (.probe, sample, same run).
 * WeChat's wide banner and the story's tall text-only cards are mostly flat
 * colour and text, which zlib's fast levels (1–3: greedy matching) compress
 * worst of all formats (+12 % against sharp's level 2, over issue 16's +10 %
 * bound): they get level 4 (lazy matching: WeChat 0.91×, story 0.82×
 * sharp's bytes). A WeChat card is small (900×383): ~1 ms more a card; a
 * story card costs ~2.3× sharp's encode time, the price of the bound
 * (docs/performance-cards.md, "PNG bytes by format"). Other formats, and any
 * level above 3, are written as configured.
 */
const LAZY_FORMATS = new Set(['wechat', 'story']);
export function cardPngLevel(format: string, configured: number): number {
  return LAZY_FORMATS.has(format) && configured >= 1 && configured <= 3 ? 4 : configured;
}
