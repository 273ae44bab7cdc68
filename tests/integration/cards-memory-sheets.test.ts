import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import sharp, { type OverlayOptions } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeContactSheets } from '../../src/cards/contact.ts';
import { collectPast, fullGc } from '../../src/cards/gc.ts';
import { encodePng } from '../../src/cards/png.ts';
import { adler32, adler32Combine, deflateSegment, pngFromSegments } from '../../src/cards/png-segments.ts';
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

describe('pngFromSegments', () => {
  it('rows deflated in independent segments decode to exactly the given pixels', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom<3 | 4>(3, 4),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 9 }),
        async (width, height, channels, seed, cuts, level) => {
          // Flat runs, gradients and noise, so rows differ from the row above.
          let s = seed;
          const rows = Array.from({ length: height }, (_, y) =>
            Uint8Array.from({ length: width * channels }, (_, i) => {
              s = (s * 1103515245 + 12345) >>> 0;
              return y % 3 === 0 ? (i * 5 + y) & 255 : y % 3 === 1 ? 200 : (s >>> 16) & 255;
            }),
          );
          // The rows behind their filter byte, cut into segments at the drawn row counts.
          const segments = [];
          for (let y = 0, k = 0; y < height; k++) {
            const n = Math.min(height - y, cuts[k % cuts.length]!);
            const raw = Buffer.alloc(n * (width * channels + 1));
            for (let j = 0; j < n; j++) raw.set(rows[y + j]!, j * (width * channels + 1) + 1);
            segments.push(await deflateSegment(raw, level));
            y += n;
          }
          const img = decode(pngFromSegments(width, height, channels, segments));
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

  it('combines Adler-32s as zlib does, and refuses segments of the wrong size', async () => {
    const a = Buffer.from('Broadsheet 數讀 '.repeat(900));
    const b = Buffer.from('contact sheet band '.repeat(700));
    expect(adler32Combine(adler32(a), adler32(b), b.length)).toBe(adler32(Buffer.concat([a, b])));
    // The zlib stream's own trailer (deflateSync) is the Adler-32 of its input.
    const z = deflateSync(Buffer.concat([a, b]));
    expect(z.readUInt32BE(z.length - 4)).toBe(adler32(Buffer.concat([a, b])));
    const seg = await deflateSegment(Buffer.alloc(2 * 13), 3);
    expect(() => pngFromSegments(4, 3, 3, [seg])).toThrow(/expected 39/);
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

  it('keeps each band compressed: only the band of a changed card is made again, a damaged band is a miss', async () => {
    const ed = join(dir, 'bands');
    const bands = () => readdirSync(join(ed, 'contact/.bands')).sort();
    // Seven square cards, five across: two bands.
    const cards = [];
    for (let i = 0; i < 7; i++) cards.push(await card(ed, i, 30 * i));
    await writeContactSheets(ed, cards, ['square']);
    const before = bands();
    expect(before).toHaveLength(2);
    // Card 6 (second band) changes: the first band's file is kept as it was, the second replaced.
    const changed = [...cards.slice(0, 6), await card(ed, 6, 77)];
    const firstBand = before.map((b) => readFileSync(join(ed, 'contact/.bands', b)));
    await writeContactSheets(ed, changed, ['square']);
    const after = bands();
    expect(after).toHaveLength(2);
    expect(after.filter((b) => before.includes(b))).toHaveLength(1);
    const keptName = after.find((b) => before.includes(b))!;
    expect(
      readFileSync(join(ed, 'contact/.bands', keptName)).equals(firstBand[before.indexOf(keptName)]!),
    ).toBe(true);
    // The same sheet as a build with no bands or thumbnails kept.
    const fresh = join(dir, 'bands-fresh');
    const again = [];
    for (let i = 0; i < 6; i++) again.push(await card(fresh, i, 30 * i));
    again.push(await card(fresh, 6, 77));
    await writeContactSheets(fresh, again, ['square']);
    const sheet = readFileSync(join(fresh, 'contact/square.png'));
    expect(readFileSync(join(ed, 'contact/square.png')).equals(sheet)).toBe(true);
    // A damaged band (its bytes no longer match their CRC) is made again: the same sheet.
    for (const b of bands()) {
      const f = join(ed, 'contact/.bands', b);
      const bytes = readFileSync(f);
      bytes[bytes.length - 1]! ^= 0xff;
      writeFileSync(f, bytes);
    }
    await writeContactSheets(ed, changed, ['square']);
    expect(readFileSync(join(ed, 'contact/square.png')).equals(sheet)).toBe(true);
    // Cards gone: their band goes too.
    await writeContactSheets(ed, changed.slice(0, 5), ['square']);
    expect(bands()).toHaveLength(1);
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

  it('collectPast with oldGeneration leaves the young generation out of its cap (a pool worker’s 48 MB)', () => {
    const spaces = getHeapSpaceStatistics();
    const young = spaces.filter((s) => s.space_name.startsWith('new_')).reduce((a, s) => a + s.space_size, 0);
    const old = spaces.filter((s) => !s.space_name.startsWith('new_')).reduce((a, s) => a + s.space_size, 0);
    // A cap between the old generation and the whole heap: passed only when the young one counts.
    expect(young).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    const capMb = Math.ceil((old + young / 2) / (1024 * 1024));
    expect(collectPast(capMb, 0, { oldGeneration: true })).toBe(false);
    expect(collectPast(capMb, 0)).toBe(true);
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

describe('writeContactSheets, a few at a time', () => {
  it('writes the same sheets one at a time as all at once, in the order of the formats asked for', async () => {
    const formats = [
      ['og', 120, 63],
      ['square', 90, 90],
      ['story', 54, 96],
      ['wechat', 90, 38],
    ] as const;
    const sheetsOf = async (name: string, atOnce: number) => {
      const ed = join(dir, name);
      const cards: ManifestCard[] = [];
      for (let i = 0; i < 5; i++)
        for (const [format, width, height] of formats) {
          const path = `cards/item-${i}/${format}.png`;
          mkdirSync(join(ed, `cards/item-${i}`), { recursive: true });
          const px = Uint8Array.from({ length: width * height * 4 }, (_, j) =>
            j % 4 === 3 ? 255 : (j * (i + 5) + width) & 255,
          );
          await sharp(Buffer.from(px), { raw: { width, height, channels: 4 } })
            .png()
            .toFile(join(ed, path));
          cards.push(manifestCard(i, format, width, height, path, `${i}${format}`));
        }
      const written = await writeContactSheets(
        ed,
        cards,
        formats.map(([f]) => f),
        atOnce,
      );
      return {
        written,
        bytes: written.map((p) =>
          createHash('sha256')
            .update(readFileSync(join(ed, p)))
            .digest('hex'),
        ),
      };
    };
    const one = await sheetsOf('sheets-one', 1);
    const all = await sheetsOf('sheets-all', 6);
    expect(one.written).toEqual([
      'contact/og.png',
      'contact/square.png',
      'contact/story.png',
      'contact/wechat.png',
    ]);
    expect(all).toEqual(one);
  });
});
