import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import sharp, { type OverlayOptions } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeContactSheets } from '../../src/cards/contact.ts';
import { collectPast, fullGc } from '../../src/cards/gc.ts';
import { encodePng, pngRowWriter } from '../../src/cards/png.ts';
import type { ManifestCard } from '../../src/jobs/manifest.ts';

// Issue 16's memory work on the card stage: the contact sheet is streamed a
// row of thumbnails at a time into a PNG written row by row, the card PNG
// encoder reuses its row buffer, and the stage collects its garbage. None of
// it may change a pixel: each is checked against what it replaced.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bs-cards-memory-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const decode = (png: Buffer) => PNG.sync.read(png);

/** Item i's article card of `format` as the manifest lists it. */
const manifestCard = (
  i: number,
  format: ManifestCard['format'],
  width: number,
  height: number,
  path: string,
  sha256: string,
): ManifestCard => ({
  id: `item-${i}/${format}`,
  itemId: `item-${i}`,
  kind: 'article',
  format,
  width,
  height,
  path,
  sha256,
  inputHash: '',
});

describe('pngRowWriter', () => {
  it('writes rows that decode to exactly the given pixels', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom<3 | 4>(3, 4),
        fc.integer({ min: 0, max: 0xffffffff }),
        async (width, height, channels, seed) => {
          // Flat runs, gradients and noise, so rows differ from the row above.
          let s = seed;
          const rows = Array.from({ length: height }, (_, y) =>
            Uint8Array.from({ length: width * channels }, (_, i) => {
              s = (s * 1103515245 + 12345) >>> 0;
              return y % 3 === 0 ? (i * 5 + y) & 255 : y % 3 === 1 ? 200 : (s >>> 16) & 255;
            }),
          );
          const w = pngRowWriter(width, height, channels, 6);
          for (const r of rows) w.row(r);
          const img = decode(await w.end());
          expect([img.width, img.height]).toEqual([width, height]);
          for (let y = 0; y < height; y++)
            for (let x = 0; x < width; x++)
              for (let c = 0; c < 4; c++) {
                const want = c < channels ? rows[y]![x * channels + c] : 255;
                expect(img.data[(y * width + x) * 4 + c]).toBe(want);
              }
        },
      ),
      { seed: 16, numRuns: 40 },
    );
  });

  it('refuses a row of the wrong length and a short image', async () => {
    const w = pngRowWriter(4, 2, 3, 6);
    expect(() => w.row(new Uint8Array(11))).toThrow(RangeError);
    w.row(new Uint8Array(12));
    await expect(w.end()).rejects.toThrow(/expected 2 PNG rows/);
  });
});

describe('encodePng with its reused row buffer', () => {
  it('encodes two different cards of one size in turn, each to its own pixels', () => {
    const [width, height] = [64, 48];
    const a = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 7) & 255);
    const b = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 13 + 1) & 255);
    const pa = encodePng(a, width, height, 3);
    const pb = encodePng(b, width, height, 3);
    expect(Buffer.from(decode(pa).data)).toEqual(Buffer.from(a));
    expect(Buffer.from(decode(pb).data)).toEqual(Buffer.from(b));
    // The first PNG's bytes are its own: encoding the second did not write into them.
    expect(Buffer.from(decode(pa).data)).toEqual(Buffer.from(a));
  });
});

describe('contact sheets, streamed', () => {
  it('has the pixels of the libvips composite it replaced', async () => {
    // Seven og "cards" (3 across: two full rows and one short one).
    const ed = join(dir, 'edition');
    const cards: ManifestCard[] = [];
    for (let i = 0; i < 7; i++) {
      const path = `cards/item-${i}/og.png`;
      mkdirSync(join(ed, `cards/item-${i}`), { recursive: true });
      const px = Uint8Array.from({ length: 240 * 126 * 4 }, (_, j) =>
        j % 4 === 3 ? 255 : (j * (i + 3) + ((j / 960) | 0) * 7) & 255,
      );
      await sharp(Buffer.from(px), { raw: { width: 240, height: 126, channels: 4 } })
        .png()
        .toFile(join(ed, path));
      cards.push(manifestCard(i, 'og', 240, 126, path, ''));
    }
    expect(await writeContactSheets(ed, cards, ['og'])).toEqual(['contact/og.png']);
    const got = decode(readFileSync(join(ed, 'contact/og.png')));

    // The previous implementation: every thumbnail composited at once by libvips.
    const [w, h, cols, gap] = [480, 252, 3, 16];
    const tiles: OverlayOptions[] = [];
    for (const [i, c] of cards.entries()) {
      const { data, info } = await sharp(join(ed, c.path))
        .resize(w, h)
        .raw()
        .toBuffer({ resolveWithObject: true });
      tiles.push({
        input: data,
        raw: { width: info.width, height: info.height, channels: info.channels },
        left: gap + (i % cols) * (w + gap),
        top: gap + Math.floor(i / cols) * (h + gap),
      });
    }
    const width = gap + cols * (w + gap);
    const height = gap + 3 * (h + gap);
    const want = await sharp({ create: { width, height, channels: 3, background: '#d9d4cc' } })
      .composite(tiles)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([got.width, got.height]).toEqual([width, height]);
    let differing = 0;
    for (let p = 0; p < width * height; p++)
      for (let c = 0; c < 3; c++)
        if (got.data[p * 4 + c] !== want.data[p * want.info.channels + c]) differing++;
    expect(differing).toBe(0);
  });
});

describe('contact sheet thumbnails kept between builds', () => {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  async function card(ed: string, i: number, shade: number): Promise<ManifestCard> {
    const path = `cards/item-${i}/square.png`;
    mkdirSync(join(ed, `cards/item-${i}`), { recursive: true });
    const png = await sharp({
      create: { width: 120, height: 120, channels: 3, background: { r: shade, g: 40 * i, b: 90 } },
    })
      .png()
      .toBuffer();
    writeFileSync(join(ed, path), png);
    return manifestCard(i, 'square', 120, 120, path, sha(png));
  }
  const thumbs = (ed: string) => readdirSync(join(ed, 'contact/.thumbs')).sort();

  it('draws the same sheet from kept thumbnails, redoes a changed card, and drops thumbnails of cards gone', async () => {
    const ed = join(dir, 'thumbs');
    const cards = [await card(ed, 0, 10), await card(ed, 1, 120), await card(ed, 2, 230)];
    await writeContactSheets(ed, cards, ['square']);
    const first = readFileSync(join(ed, 'contact/square.png'));
    expect(thumbs(ed)).toHaveLength(3);
    // Rebuilt from the thumbnails alone: the card files are not even read.
    for (const c of cards) rmSync(join(ed, c.path));
    const kept = cards.map((c) => ({ ...c }));
    for (const c of kept) writeFileSync(join(ed, c.path), 'not a png: the thumbnail must be used');
    await writeContactSheets(ed, kept, ['square']);
    expect(readFileSync(join(ed, 'contact/square.png')).equals(first)).toBe(true);
    // One card changed, one gone: the changed one is decoded again, the gone one's thumbnail removed.
    const changed = [await card(ed, 0, 10), await card(ed, 1, 60)];
    writeFileSync(join(ed, cards[2]!.path), 'gone');
    await writeContactSheets(ed, changed, ['square']);
    expect(thumbs(ed)).toEqual(changed.map((c) => `${c.sha256}-300x300.thumb`).sort());
    const fresh = join(dir, 'thumbs-fresh');
    const again = [await card(fresh, 0, 10), await card(fresh, 1, 60)];
    await writeContactSheets(fresh, again, ['square']);
    expect(
      readFileSync(join(ed, 'contact/square.png')).equals(readFileSync(join(fresh, 'contact/square.png'))),
    ).toBe(true);
  });

  it('treats a damaged thumbnail as a miss', async () => {
    const ed = join(dir, 'thumbs-damaged');
    const cards = [await card(ed, 0, 10), await card(ed, 1, 200)];
    await writeContactSheets(ed, cards, ['square']);
    const first = readFileSync(join(ed, 'contact/square.png'));
    for (const t of thumbs(ed))
      writeFileSync(join(ed, 'contact/.thumbs', t), Buffer.from('BST1\x00\x10\x00\x10\x03garbage'));
    await writeContactSheets(ed, cards, ['square']);
    expect(readFileSync(join(ed, 'contact/square.png')).equals(first)).toBe(true);
  });
});

describe('the card stage collects its garbage', () => {
  it('fullGc frees what nothing holds', () => {
    let junk: number[][] | undefined = Array.from({ length: 200 }, () => new Array(50_000).fill(1.5));
    const held = process.memoryUsage().heapUsed;
    expect(junk.length).toBe(200);
    junk = undefined;
    fullGc();
    // ~80 MB of doubles let go; a collection that ran frees most of it.
    expect(held - process.memoryUsage().heapUsed).toBeGreaterThan(40 * 1024 * 1024);
  });

  it('collectPast collects only past its cap', () => {
    // Far above any heap this test has: nothing to do.
    expect(collectPast(64 * 1024)).toBe(false);
    expect(collectPast(0)).toBe(false);
    // Below the heap it has, with no slack asked: a collection runs.
    expect(collectPast(1, 0)).toBe(true);
  });

  it('collectPast waits for its slack to be allocated again after a collection (its own or fullGc)', () => {
    fullGc();
    // Nothing much allocated since: past the cap, yet under the slack.
    expect(collectPast(1, 8)).toBe(false);
    const junk = Array.from({ length: 40 }, () => new Array(50_000).fill(2.5)); // ~16 MB
    expect(collectPast(1, 8)).toBe(true);
    expect(junk.length).toBe(40);
  });
});
