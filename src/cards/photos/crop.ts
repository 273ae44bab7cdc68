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

export async function cropPhoto(
  bytes: Buffer,
  format: CardFormat,
  focus?: { x: number; y: number },
): Promise<string> {
  const aspect = PHOTO_ASPECT[format];
  const img = sharp(bytes, { failOn: 'error' }).rotate();
  const meta = await img.metadata();
  const w = meta.autoOrient?.width ?? meta.width ?? 0;
  const h = meta.autoOrient?.height ?? meta.height ?? 0;
  const outW = Math.min(WIDTH[format], w);
  const outH = Math.max(1, Math.round(outW / aspect));
  let pipeline: Sharp;
  if (focus && w && h) {
    const cw = Math.min(w, Math.round(h * aspect));
    const ch = Math.min(h, Math.round(w / aspect));
    const clamp = (v: number, max: number) => Math.max(0, Math.min(max, Math.round(v)));
    pipeline = img
      .extract({
        left: clamp(focus.x * w - cw / 2, w - cw),
        top: clamp(focus.y * h - ch / 2, h - ch),
        width: cw,
        height: ch,
      })
      .resize(outW, outH);
  } else {
    pipeline = img.resize(outW, outH, { fit: 'cover', position: sharp.strategy.attention });
  }
  const jpeg = await pipeline.jpeg({ quality: 82, mozjpeg: false }).toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}
