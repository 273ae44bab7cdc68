import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cropPhoto, cropPortrait } from '../../src/cards/photos/crop.ts';
import { photoFor, portraitFor, type SourcePhoto } from '../../src/cards/photos/index.ts';
import { testContext } from '../helpers/context.ts';

// Card photo crops are kept in out/.cache/crops/ by what they are made from
// (src/cards/photos/crop-cache.ts): a rebuild reads them instead of decoding
// every photo again for every format.
const root = mkdtempSync(join(tmpdir(), 'bs-crop-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ctx = testContext({ root, paths: { out: join(root, 'out') } });
const cacheDir = join(root, 'out', '.cache', 'crops');
const entries = () => readdirSync(cacheDir).filter((f) => f.endsWith('.uri'));

let photo: SourcePhoto;
let other: string;
beforeAll(async () => {
  // A left-to-right gradient, so crops around different focus points differ.
  const w = 400;
  const h = 250;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      raw.set([Math.round((x / w) * 255), 80, 255 - Math.round((x / w) * 255)], (y * w + x) * 3);
  const bytes = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg()
    .toBuffer();
  photo = { bytes, alt: 'gradient', focus: { x: 0.2, y: 0.5 } };
  const dot = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#00ff00' } })
    .jpeg()
    .toBuffer();
  other = `data:image/jpeg;base64,${dot.toString('base64')}`;
});

describe('card photo crop cache', () => {
  it('makes the crop once, then serves it from out/.cache/crops/', async () => {
    const first = await photoFor(photo, 'og', ctx, 'gradient.jpg');
    expect(first?.src).toBe(await cropPhoto(photo.bytes, 'og', photo.focus));
    expect(entries()).toHaveLength(1);
    // Served from the file: replace it with another valid crop and it is what comes back.
    writeFileSync(join(cacheDir, entries()[0]!), other);
    expect((await photoFor(photo, 'og', ctx, 'gradient.jpg'))?.src).toBe(other);
  });

  it('keys each format, focus and source apart', async () => {
    const before = entries().length;
    await photoFor(photo, 'story', ctx, 'gradient.jpg');
    await photoFor({ ...photo, focus: { x: 0.8, y: 0.5 } }, 'og', ctx, 'gradient.jpg');
    await photoFor({ ...photo, bytes: Buffer.concat([photo.bytes]) }, 'og', ctx, 'gradient.jpg'); // same bytes
    expect(entries().length).toBe(before + 2);
    const p = await portraitFor(photo, ctx, 'gradient.jpg');
    expect(p?.src).toBe(await cropPortrait(photo.bytes, photo.focus));
    expect(entries().length).toBe(before + 3);
  });

  it('treats a damaged entry as a miss and writes it again', async () => {
    rmSync(cacheDir, { recursive: true, force: true });
    await photoFor(photo, 'square', ctx, 'gradient.jpg');
    const [name] = entries();
    writeFileSync(join(cacheDir, name!), 'data:image/jpeg;base64,AAAA\0garbage');
    const again = await photoFor(photo, 'square', ctx, 'gradient.jpg');
    expect(again?.src).toBe(await cropPhoto(photo.bytes, 'square', photo.focus));
  });

  it('removes entries not written for 30 days when a build first uses the cache', async () => {
    const { pruneCrops } = await import('../../src/cards/photos/crop-cache.ts');
    const old = join(cacheDir, `${'0'.repeat(64)}.uri`);
    writeFileSync(old, other);
    const fresh = join(cacheDir, `${'1'.repeat(64)}.uri`);
    writeFileSync(fresh, other);
    const month = new Date(Date.now() - 31 * 24 * 3600_000);
    utimesSync(old, month, month);
    pruneCrops(cacheDir);
    expect(entries()).not.toContain(`${'0'.repeat(64)}.uri`);
    expect(entries()).toContain(`${'1'.repeat(64)}.uri`);
  });
});
