import { Resvg } from '@resvg/resvg-js';
import sharp, { type Sharp } from 'sharp';

// The glyph-cache rasterizer's bitmaps (raster.ts): a photo (a JPEG crop)
// decoded ahead and scaled by sharp on libuv's threads, a portrait (a small
// PNG) drawn by resvg in a canvas of its own size, and their rows composited
// onto the card's pixels.

/** A bitmap image placed at (x, y, w, h) in card pixels, shown only inside `clip` (whole pixels). */
export interface ImageEl {
  x: number;
  y: number;
  w: number;
  h: number;
  href: string;
  clip: { x: number; y: number; w: number; h: number } | undefined;
}

/** Source-over of a solid colour with coverage `cov` (0–1) onto straight-alpha RGBA. */
export function blendPixel(px: Uint8Array, i: number, r: number, g: number, b: number, sa: number) {
  const da = px[i + 3]! / 255;
  if (da === 1 || sa === 1) {
    const k = 1 - sa;
    px[i] = r * sa + px[i]! * k + 0.5;
    px[i + 1] = g * sa + px[i + 1]! * k + 0.5;
    px[i + 2] = b * sa + px[i + 2]! * k + 0.5;
    if (sa === 1) px[i + 3] = 255;
    return;
  }
  const oa = sa + da * (1 - sa);
  if (oa <= 0) return;
  const k = (da * (1 - sa)) / oa;
  const s = sa / oa;
  px[i] = r * s + px[i]! * k + 0.5;
  px[i + 1] = g * s + px[i + 1]! * k + 0.5;
  px[i + 2] = b * s + px[i + 2]! * k + 0.5;
  px[i + 3] = oa * 255 + 0.5;
}

/** The part of an image inside its clip and the canvas, scaled by sharp to its drawn size, as RGB or RGBA rows. */
interface ImagePixels {
  data: Buffer;
  channels: number;
  /** Pixels per row of `data`, and where the drawn part starts in it. */
  stride: number;
  sx: number;
  sy: number;
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The image's part of the card: its box (whole pixels out), its clip and the canvas. */
function visibleArea(im: ImageEl, W: number, H: number) {
  const c = im.clip ?? { x: -Infinity, y: -Infinity, w: Infinity, h: Infinity };
  const left = Math.max(0, Math.floor(im.x), c.x);
  const top = Math.max(0, Math.floor(im.y), c.y);
  const right = Math.min(W, Math.ceil(im.x + im.w), c.x + c.w);
  const bottom = Math.min(H, Math.ceil(im.y + im.h), c.y + c.h);
  return right > left && bottom > top ? { left, top, right, bottom } : undefined;
}

/**
 * The scaled rows of an image's visible part; undefined when nothing of it is
 * inside its clip and the card; throws (the caller sends the card to resvg)
 * for bytes sharp cannot read or give as RGB(A).
 */
export async function imagePixels(im: ImageEl, W: number, H: number): Promise<ImagePixels | undefined> {
  const area = visibleArea(im, W, H);
  if (!area) return undefined;
  const got = im.href.startsWith('data:image/jpeg') ? await photoPixels(im, area) : portraitPixels(im, area);
  if (got && got.channels < 3) throw new Error(`unexpected ${got.channels}-channel image`);
  return got;
}

type Area = NonNullable<ReturnType<typeof visibleArea>>;

/**
 * A portrait (a small PNG with a transparent outside): resvg draws it into a
 * canvas the size of its part of the card, so its edge is resvg's.
 */
function portraitPixels(im: ImageEl, { left, top, right, bottom }: Area): ImagePixels {
  const width = right - left;
  const height = bottom - top;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><image x="${im.x - left}" y="${im.y - top}" width="${im.w}" height="${im.h}" preserveAspectRatio="none" href="${im.href}"/></svg>`;
  const px = new Resvg(svg, { font: { loadSystemFonts: false } }).render().pixels;
  const data = Buffer.from(px.buffer, px.byteOffset, px.byteLength);
  return { data, channels: 4, stride: width, sx: 0, sy: 0, left, top, width, height };
}

/** A photo's decoded pixels, as sharp's jpegload gives them (before any colourspace change). */
interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * Photos being decoded ahead of their card's layout (predecodePhoto), by
 * their data: URL. Taken (and removed) by the card that draws them; a card
 * that fails before it rasterizes leaves its entry, so only the latest few
 * are kept.
 */
const predecoded = new Map<string, Promise<Decoded>>();
const PREDECODED_MAX = 4;
/** Photos decoded ahead and not yet drawn (for tests). */
export const predecodedCount = (): number => predecoded.size;

/**
 * Starts decoding a card's photo (a JPEG data: URL) on libuv's threads now,
 * while satori lays the card out on this one (render.ts cardPixels): the
 * layout needs nothing from the photo, and the JPEG decode was most of the
 * time a photo card's thread sat waiting for sharp (~6 ms of a ~28 ms og
 * card). photoPixels then only scales the decoded pixels. The same pixels
 * either way: the scaling reads the same decoded image (checked on every
 * sample card, tests/integration/cards-photo-predecode.test.ts).
 */
export function predecodePhoto(href: string): void {
  if (!href.startsWith('data:image/jpeg') || predecoded.has(href)) return;
  const decoding = sharp(Buffer.from(href.slice(href.indexOf(',') + 1), 'base64'), { failOn: 'error' })
    .raw()
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => ({ data, width: info.width, height: info.height, channels: info.channels }));
  // Its failure is the drawing card's to see (photoPixels awaits it); never an unhandled rejection.
  decoding.catch(() => undefined);
  predecoded.set(href, decoding);
  while (predecoded.size > PREDECODED_MAX) predecoded.delete(predecoded.keys().next().value!);
}

/**
 * The photo's decoded pixels as a sharp pipeline, and their size: predecoded,
 * or decoded now. `fits(width, height)` says whether the decoded pixels serve
 * this drawing: not when it shrinks the photo to half or less both ways, where
 * sharp decodes a JPEG at 1/2, 1/4 or 1/8 scale (libjpeg's shrink-on-load,
 * different pixels). The crops are made for their slot (photos/crop.ts), so
 * that is for a photo not cropped by Broadsheet.
 */
async function decodedPhoto(
  href: string,
  fits: (width: number, height: number) => boolean,
): Promise<{ img: Sharp; width: number; height: number }> {
  const pre = predecoded.get(href);
  if (pre) {
    predecoded.delete(href);
    const d = await pre;
    if (fits(d.width, d.height)) {
      const img = sharp(d.data, { raw: { width: d.width, height: d.height, channels: d.channels } });
      return { img, width: d.width, height: d.height };
    }
  }
  const img = sharp(Buffer.from(href.slice(href.indexOf(',') + 1), 'base64'), { failOn: 'error' });
  const meta = await img.metadata();
  return { img, width: meta.width ?? 0, height: meta.height ?? 0 };
}

/**
 * A photo (always a JPEG crop, opaque): sharp scales it on libuv's threads,
 * 4–8× faster than resvg. Shrunk, by its resize (Catmull-Rom); enlarged, by
 * its affine transform with the bicubic interpolator, which samples at the
 * same pixel centres as resvg (its resize does not): measured against resvg
 * on the sample's and the fixtures' photos, no pixel past pixelmatch's 0.1.
 * A greyscale photo is turned into sRGB first: three channels.
 */
async function photoPixels(
  im: ImageEl,
  { left, top, right, bottom }: Area,
): Promise<ImagePixels | undefined> {
  // Where sharp's resize would shrink-on-load (both ways ≥ 2×), the JPEG is decoded in that pipeline.
  const { img, ...meta } = await decodedPhoto(
    im.href,
    (w, h) =>
      !(im.w < w && im.h < h) ||
      Math.min(
        w / (Math.round(im.x + im.w) - Math.round(im.x)),
        h / (Math.round(im.y + im.h) - Math.round(im.y)),
      ) < 2,
  );
  if (!meta.width || !meta.height) throw new Error('image without a size');
  const shrunk = im.w < meta.width && im.h < meta.height;
  // Where the scaled image's pixel (0, 0) lands on the card: its box rounded
  // (resize), or floored with the fraction handed to the transform (affine).
  const ox = shrunk ? Math.round(im.x) : Math.floor(im.x);
  const oy = shrunk ? Math.round(im.y) : Math.floor(im.y);
  const scaled = shrunk
    ? img.resize(Math.round(im.x + im.w) - ox, Math.round(im.y + im.h) - oy, { fit: 'fill', kernel: 'cubic' })
    : img.affine([im.w / meta.width, 0, 0, im.h / meta.height], {
        interpolator: sharp.interpolators.bicubic,
        odx: im.x - ox,
        ody: im.y - oy,
      });
  const { data, info } = await scaled.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  // Inside the scaled image, the clip and the card, whichever ends first.
  const x0 = Math.max(left, ox);
  const y0 = Math.max(top, oy);
  const width = Math.min(right, ox + info.width) - x0;
  const height = Math.min(bottom, oy + info.height) - y0;
  if (width <= 0 || height <= 0) return undefined;
  return {
    data,
    channels: info.channels,
    stride: info.width,
    sx: x0 - ox,
    sy: y0 - oy,
    left: x0,
    top: y0,
    width,
    height,
  };
}

/** Source-over of scaled image rows onto the card's pixels. */
export function drawImage(px: Uint8Array, W: number, im: ImagePixels) {
  const { data, channels: n } = im;
  for (let y = 0; y < im.height; y++) {
    let s = ((im.sy + y) * im.stride + im.sx) * n;
    let d = ((im.top + y) * W + im.left) * 4;
    for (let x = 0; x < im.width; x++, s += n, d += 4) {
      const a = n === 4 ? data[s + 3]! : 255;
      if (a === 255) {
        px[d] = data[s]!;
        px[d + 1] = data[s + 1]!;
        px[d + 2] = data[s + 2]!;
        px[d + 3] = 255;
      } else if (a) blendPixel(px, d, data[s]!, data[s + 1]!, data[s + 2]!, a / 255);
    }
  }
}
