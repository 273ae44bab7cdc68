import sharp, { type Sharp } from 'sharp';
import type { CardFormat } from '../config.ts';

// A photo cropped for one format's photo slot: around the article's focal
// point (image.focus) where it names one, else where sharp's attention
// strategy finds the most salient region (faces, contrast, saturation).
// The layout still draws it with object-fit: cover, so a slot a little off
// this aspect loses a sliver at the edges, never the subject.

/** Width ÷ height of the article layout's photo slot per format (templates/cards/article.ts). */
export const PHOTO_ASPECT: Record<CardFormat, number> = {
  og: 1.2,
  x: 1.2,
  square: 2.6,
  portrait: 2.05,
  story: 1.9,
  wechat: 258 / 383,
};

/** Pixels wide the crop is encoded at: enough for the largest slot, small enough to keep cards fast. */
const WIDTH: Record<CardFormat, number> = {
  og: 560,
  x: 760,
  square: 1000,
  portrait: 1000,
  story: 1000,
  wechat: 300,
};

/** A crop of `aspect` (width ÷ height), at most `maxW` px wide: around `focus`, else sharp's attention strategy. */
async function cropTo(
  bytes: Buffer,
  aspect: number,
  maxW: number,
  focus?: { x: number; y: number },
): Promise<Sharp> {
  const img = sharp(bytes, { failOn: 'error' }).rotate();
  const meta = await img.metadata();
  const w = meta.autoOrient?.width ?? meta.width ?? 0;
  const h = meta.autoOrient?.height ?? meta.height ?? 0;
  const outW = Math.min(maxW, w);
  const outH = Math.max(1, Math.round(outW / aspect));
  if (focus && w && h) {
    const cw = Math.min(w, Math.round(h * aspect));
    const ch = Math.min(h, Math.round(w / aspect));
    const clamp = (v: number, max: number) => Math.max(0, Math.min(max, Math.round(v)));
    return img
      .extract({
        left: clamp(focus.x * w - cw / 2, w - cw),
        top: clamp(focus.y * h - ch / 2, h - ch),
        width: cw,
        height: ch,
      })
      .resize(outW, outH);
  }
  return img.resize(outW, outH, { fit: 'cover', position: sharp.strategy.attention });
}

export async function cropPhoto(
  bytes: Buffer,
  format: CardFormat,
  focus?: { x: number; y: number },
): Promise<string> {
  const pipeline = await cropTo(bytes, PHOTO_ASPECT[format], WIDTH[format], focus);
  const jpeg = await pipeline.jpeg({ quality: 82, mozjpeg: false }).toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/**
 * Pixels across a quote card's portrait: the largest drawn (story, ≈95 px) with
 * room to spare; the same crop serves every format.
 */
export const PORTRAIT_PX = 160;

/**
 * A speaker's portrait: a square crop (around `focus`, else attention) cut to a
 * circle here, as a PNG with a transparent outside — so the card draws a plain
 * image, not a clip path (a clip costs resvg a canvas-sized layer).
 */
export async function cropPortrait(bytes: Buffer, focus?: { x: number; y: number }): Promise<string> {
  const square = await (await cropTo(bytes, 1, 4096, focus)).toBuffer();
  const n = PORTRAIT_PX;
  const mask = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n}" height="${n}"><circle cx="${n / 2}" cy="${n / 2}" r="${n / 2}" fill="#fff"/></svg>`,
  );
  const png = await sharp(square)
    .resize(n, n)
    .ensureAlpha()
    .composite([{ input: mask, blend: 'dest-in' }])
    .png({ compressionLevel: 9 })
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}
