import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { CardFormat } from '../../src/cards/config.ts';
import { clearGlyphCache, freshGlyphs, takeFresh } from '../../src/cards/glyph-cache.ts';
import { resetGlyphStore, saveGlyphStore, useGlyphStore } from '../../src/cards/glyph-store.ts';
import { createCardPool } from '../../src/cards/pool.ts';
import { type CardJob, renderCard } from '../../src/cards/render.ts';
import { fixtureItems } from '../fixtures/cards/edition.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';

// The glyph store (src/cards/glyph-store.ts) keeps coverage bitmaps between
// builds. It is only a cache: a card drawn with it is the same bytes as one
// drawn without, whatever state the store is in (missing, corrupt, from
// other fonts, unwritable, merged, written by several threads).

const { ctx, items, brand } = fixtureItems();
const job = (item: (typeof items)[number], format: CardFormat, title?: string): CardJob => ({
  id: `${item.itemId}${title ? '-t' : ''}/${format}`,
  kind: item.kind,
  format,
  data: (title ? { ...(item.data as object), title, photo: undefined } : item.data) as CardJob['data'],
  templatesDir: ctx.paths.templates,
  brand,
  pngCompression: 3,
});

// Headlines nobody here wrote (seeded): Traditional Chinese, Latin, digits
// and punctuation, at og, square and story sizes.
const article = items.find((i) => i.kind === 'article')!;
const headlines = fc.sample(
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...'港聞數讀經濟科技政府醫療房屋教育交通運輸環境氣候體育文化藝術'),
        fc.constantFrom(...'AIQwenVLInstructGPU2025%.-'),
        fc.constantFrom('，', '。', '「', '」', '：', ' '),
      ),
      { minLength: 4, maxLength: 40 },
    )
    .map((cs) => cs.join('').trim() || '港聞'),
  { seed: 3131, numRuns: 6 },
);
const jobs: CardJob[] = [
  ...items.flatMap((it) => (['og', 'story', 'wechat'] as const).map((f) => job(it, f))),
  ...headlines.flatMap((h, i) => job(article, (['og', 'square', 'story'] as const)[i % 3]!, h)),
];

async function drawAll(list: CardJob[] = jobs): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const j of list) out.push((await renderCard(j)).png);
  return out;
}

/** Draw as a fresh thread would (nothing cached, the store in `dir` read anew), and save to it when asked. */
async function fresh(dir: string | undefined, list?: CardJob[], save = false) {
  clearGlyphCache();
  resetGlyphStore();
  if (dir) useGlyphStore(dir);
  const pngs = await drawAll(list);
  const rasterized = freshGlyphs();
  if (save) saveGlyphStore();
  else takeFresh();
  return { pngs, rasterized };
}

/** A fresh thread reading the store in `dir` rasterizes nothing for `list` and draws the bytes a storeless one does. */
async function expectStoreHoldsAll(dir: string, list: CardJob[]) {
  const cold = await fresh(undefined, list);
  const warm = await fresh(dir, list);
  expect(warm.rasterized).toBe(0);
  for (const [i, png] of warm.pngs.entries()) expect(Buffer.compare(png, cold.pngs[i]!), list[i]!.id).toBe(0);
}

const files = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.bin'));

afterEach(() => {
  resetGlyphStore();
  clearGlyphCache();
});

describe('glyph store', () => {
  it('a thread reading the store draws the same bytes and rasterizes none of the glyphs it holds', async () => {
    const cold = await fresh(undefined);
    expect(cold.rasterized).toBeGreaterThan(500);
    const dir = join(tempDir('glyph-store-'), 'glyphs');
    // First build: an empty store, every glyph rasterized, then written.
    const first = await fresh(dir, undefined, true);
    expect(first.rasterized).toBe(cold.rasterized);
    expect(files(dir)).toHaveLength(1);
    // Second build: every glyph found in the store.
    const warm = await fresh(dir);
    expect(warm.rasterized).toBe(0);
    for (const [i, png] of warm.pngs.entries())
      expect(Buffer.compare(png, cold.pngs[i]!), jobs[i]!.id).toBe(0);
  }, 240_000);

  it('skips what it cannot trust: a flipped coverage byte, a cut file, garbage, a folder that is a file', async () => {
    const some = jobs.slice(0, 8);
    const cold = await fresh(undefined, some);
    const dir = join(tempDir('glyph-store-bad-'), 'glyphs');
    await fresh(dir, some, true);
    const [name] = files(dir);
    const file = join(dir, name!);
    const good = readFileSync(file);

    // The last byte is the last bitmap's: that one glyph is rasterized again, nothing else.
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1]! ^= 0xff;
    writeFileSync(file, flipped);
    const a = await fresh(dir, some);
    expect(a.rasterized).toBe(1);
    for (const [i, png] of a.pngs.entries()) expect(Buffer.compare(png, cold.pngs[i]!)).toBe(0);

    // Cut short (as no rename would leave it, but a disk might): the file is skipped.
    writeFileSync(file, good.subarray(0, good.length - 100));
    const b = await fresh(dir, some);
    expect(b.rasterized).toBe(cold.rasterized);
    for (const [i, png] of b.pngs.entries()) expect(Buffer.compare(png, cold.pngs[i]!)).toBe(0);

    // Garbage under a store name, and the index's checksum broken.
    writeFileSync(file, Buffer.from('not a glyph store at all, but long enough to look at'));
    const broken = Buffer.from(good);
    broken[20]! ^= 0x01;
    writeFileSync(join(dir, name!.replace('.bin', '-2.bin')), broken);
    const c = await fresh(dir, some);
    expect(c.rasterized).toBe(cold.rasterized);
    for (const [i, png] of c.pngs.entries()) expect(Buffer.compare(png, cold.pngs[i]!)).toBe(0);

    // out/.cache/glyphs is a file: nothing read, nothing written, no error.
    const asFile = join(tempDir('glyph-store-file-'), 'glyphs');
    writeFileSync(asFile, 'x');
    const d = await fresh(asFile, some.slice(0, 2));
    expect(() => saveGlyphStore()).not.toThrow();
    expect(readFileSync(asFile, 'utf8')).toBe('x');
    for (const [i, png] of d.pngs.entries()) expect(Buffer.compare(png, cold.pngs[i]!)).toBe(0);
  }, 240_000);

  it('merges past eight files: no more than eight stay, stale ones go, nothing is lost', async () => {
    const dir = join(tempDir('glyph-store-merge-'), 'glyphs');
    mkdirSync(dir, { recursive: true });
    // A file from other fonts or other rasterizer code (another digest).
    writeFileSync(join(dir, 'g-0000000000000000-1-0-00.bin'), 'old');
    // Ten builds, each drawing cards whose glyphs the store does not hold yet.
    const rounds = headlines.map((h, i) => [
      job(article, (['og', 'square', 'story', 'x'] as const)[i % 4]!, h),
    ]);
    rounds.push(...items.slice(0, 4).map((it) => [job(it, 'portrait')]));
    for (const r of rounds) {
      await fresh(dir, r, true);
      expect(files(dir).length).toBeLessThanOrEqual(8);
    }
    expect(files(dir).some((n) => n.startsWith('g-0000'))).toBe(false);
    await expectStoreHoldsAll(dir, rounds.flat());
  }, 240_000);

  it('a long-lived thread (the daemon) reads the store once and still merges what it writes build after build', async () => {
    const dir = join(tempDir('glyph-store-daemon-'), 'glyphs');
    const rounds = [...headlines, ...headlines.map((h) => `${h}經`)].map((h, i) => [
      job(article, (['og', 'square', 'story', 'x', 'portrait'] as const)[i % 5]!, h),
    ]);
    clearGlyphCache();
    resetGlyphStore();
    useGlyphStore(dir);
    let wrote = 0;
    for (const r of rounds) {
      const before = freshGlyphs();
      await drawAll(r);
      if (freshGlyphs() > before) wrote++;
      saveGlyphStore();
      expect(files(dir).length).toBeLessThanOrEqual(8);
    }
    expect(wrote).toBeGreaterThan(8); // so a merge was needed
    await expectStoreHoldsAll(dir, rounds.flat());
  }, 240_000);

  it("a pool's workers write theirs as it closes, and the next pool finds them all", async () => {
    const root = tempDir('glyph-store-pool-');
    const dir = join(root, 'glyphs');
    const list = jobs.filter((j) => j.format !== 'story').slice(0, 12);
    const run = async (tag: string) => {
      const pool = createCardPool(2);
      try {
        return await Promise.all(
          list.map((j, i) => pool.run({ job: j, file: join(root, `${tag}-${i}.png`), glyphs: dir })),
        );
      } finally {
        await pool.close();
      }
    };
    const first = await run('a');
    const written = files(dir);
    expect(written.length).toBeGreaterThanOrEqual(1);
    expect(written.length).toBeLessThanOrEqual(2);
    const sizes = written.map((n) => statSync(join(dir, n)).size);
    const second = await run('b');
    // Nothing new to write: every glyph came from the store.
    expect(files(dir)).toEqual(written);
    expect(written.map((n) => statSync(join(dir, n)).size)).toEqual(sizes);
    expect(second.map((r) => r.sha256)).toEqual(first.map((r) => r.sha256));
    const here = await fresh(undefined, list);
    expect(second.map((r) => r.bytes)).toEqual(here.pngs.map((p) => p.length));
  }, 240_000);
});
