import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type CardJob, cardSvg } from '../../src/cards/render.ts';
import { dataUrlSize, standInImages } from '../../src/cards/stand-ins.ts';
import { fixtureItems } from '../fixtures/cards/edition.ts';

// Photos reach satori as stand-ins of their size (src/cards/stand-ins.ts). The
// size must be the one satori itself reads, for JPEGs as cameras and editors
// write them, not only for the crops our own pipeline makes; where it cannot
// be read from the first bytes, the real URL goes to satori. Either way the
// card's SVG is satori's own.

const url = (type: string, b: Buffer) => `data:image/${type};base64,${b.toString('base64')}`;
// Noise, like a photo: thousands of colours, a file of tens of KB.
const photo = (w: number, h: number) =>
  sharp({
    create: {
      width: w,
      height: h,
      channels: 3,
      background: '#285a8c',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  });

/** A JPEG with a comment segment of `bytes` after its start: the size lies past the first 6 KB. */
function withComment(jpeg: Buffer, bytes: number): Buffer {
  const seg = Buffer.alloc(4 + bytes, 0x20);
  seg.writeUInt16BE(0xfffe, 0);
  seg.writeUInt16BE(bytes + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), seg, jpeg.subarray(2)]);
}

const { items, brand, ctx } = fixtureItems(['article']);
const article = items[0]!;
const job = (src: string, format: CardJob['format']): CardJob => ({
  id: `${article.itemId}-photo/${format}`,
  kind: 'article',
  format,
  data: { ...(article.data as object), photo: { src, alt: '相片' } } as CardJob['data'],
  templatesDir: ctx.paths.templates,
  brand,
  pngCompression: 3,
});

describe('image stand-ins', async () => {
  const baseline = await photo(640, 427).jpeg({ quality: 80 }).toBuffer();
  const cases: [string, string, [number, number] | undefined][] = [
    ['baseline JPEG', url('jpeg', baseline), [640, 427]],
    [
      'progressive JPEG',
      url('jpeg', await photo(500, 700).jpeg({ progressive: true }).toBuffer()),
      [500, 700],
    ],
    [
      'JPEG with EXIF and an ICC profile',
      url('jpeg', await photo(800, 600).withMetadata({ orientation: 6 }).jpeg().toBuffer()),
      [800, 600],
    ],
    ['JPEG whose size is past the first 6 KB', url('jpeg', withComment(baseline, 9000)), undefined],
    ['PNG', url('png', await photo(300, 200).png().toBuffer()), [300, 200]],
    ['WebP (left to satori)', url('webp', await photo(300, 200).webp().toBuffer()), undefined],
    ['cut short', url('jpeg', baseline.subarray(0, 40)), undefined],
    ['not an image', 'data:image/jpeg;base64,AAAA', undefined],
  ];

  it('reads the size satori reads, or none', async () => {
    for (const [what, src, size] of cases) expect(dataUrlSize(src), what).toEqual(size);
  });

  it('draws each as satori alone does, at every shape of card', async () => {
    for (const [what, src, size] of cases.slice(0, 5)) {
      const stood = standInImages({ type: 'img', props: { src } });
      expect(stood.tree.props.src !== src, what).toBe(size !== undefined);
      for (const format of ['og', 'story', 'wechat'] as const) {
        const j = job(src, format);
        const alone = await cardSvg(j, { embedFont: false, satoriAlone: true });
        expect(await cardSvg(j, { embedFont: false }), `${what} ${format}`).toBe(alone);
        expect(alone.includes(src), `${what} ${format}`).toBe(true);
      }
    }
  });
});
