import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderCards } from '../../src/cards/index.ts';
import { article, context, edition } from '../fixtures/cards/edition.ts';

// renderCards end to end: files on disk, incremental rebuilds, failure isolation, the pool.

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'cards-build-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ctx = context({ formats: ['og', 'square'], workers: 0 });
const mtime = (f: string) => statSync(f).mtimeMs;

describe('renderCards', () => {
  it('writes every card and caption, listed with size and sha256', async () => {
    const dir = tmp();
    const r = await renderCards(edition(), ctx, { editionDir: dir, progress: false });
    expect(r.failures).toEqual([]);
    // 2 articles + 1 quote + 2 statsets + 5 stats = 10 items × 2 formats
    expect(r.cards).toHaveLength(20);
    expect(r.posts).toHaveLength(10 * 6);
    for (const c of r.cards) {
      const png = readFileSync(join(dir, c.path));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(c.path).toBe(`cards/${c.itemId}/${c.format}.png`);
    }
    for (const p of r.posts) {
      expect(readFileSync(join(dir, p.path), 'utf8')).toBe(`${p.text}\n`);
      expect(p.length).toBeLessThanOrEqual(p.limit);
    }
    expect(r.cards.map((c) => c.id)).toContain('china-ai-rule-definer-quote/og');
  });

  it('an unchanged rebuild redraws nothing; a changed item, a changed file or a deleted file is redrawn', async () => {
    const dir = tmp();
    const first = await renderCards(edition(), ctx, { editionDir: dir, progress: false });
    const lead = join(dir, 'cards/china-ai-patents-lead/og.png');
    const other = join(dir, 'cards/china-ai-2025-1/og.png');
    const before = { lead: mtime(lead), other: mtime(other) };

    const again = await renderCards(edition(), ctx, {
      editionDir: dir,
      previous: first.cards,
      progress: false,
    });
    expect(again.cards).toEqual(first.cards);
    // The contact sheets are listed whether drawn now or kept from before.
    expect(first.contact.map((c) => c.format)).toEqual(['og', 'square']);
    for (const c of first.contact) {
      const png = readFileSync(join(dir, c.path));
      expect(c.path).toBe(`contact/${c.format}.png`);
      expect(c.sha256).toBe(createHash('sha256').update(png).digest('hex'));
      expect([c.width, c.height]).toEqual([png.readUInt32BE(16), png.readUInt32BE(20)]);
    }
    expect(again.contact).toEqual(first.contact);
    expect(mtime(lead)).toBe(before.lead);
    expect(mtime(other)).toBe(before.other);

    // A new headline changes only that article's cards.
    const changed = edition({
      articles: [
        article({ title: '中國AI專利量全球居首', image: { src: 'images/harbour.jpg', alt: '維港' } }),
        edition().articles[1]!,
      ],
    });
    const third = await renderCards(changed, ctx, {
      editionDir: dir,
      previous: again.cards,
      progress: false,
    });
    expect(mtime(lead)).toBeGreaterThan(before.lead);
    expect(mtime(other)).toBe(before.other);
    const leadCard = (r: typeof first) => r.cards.find((c) => c.id === 'china-ai-patents-lead/og')!;
    expect(leadCard(third).inputHash).not.toBe(leadCard(first).inputHash);

    // A tampered PNG (sha256 no longer matches) is redrawn.
    writeFileSync(other, 'not a png');
    const fourth = await renderCards(changed, ctx, {
      editionDir: dir,
      previous: third.cards,
      progress: false,
    });
    expect(readFileSync(other).subarray(1, 4).toString()).toBe('PNG');
    expect(fourth.cards.find((c) => c.id === 'china-ai-2025-1/og')!.sha256).toBe(
      first.cards.find((c) => c.id === 'china-ai-2025-1/og')!.sha256,
    );
  });

  it('one failing card is reported and the rest of the edition still renders', async () => {
    const dir = tmp();
    const bad = edition({
      articles: [article({ id: 'bad-glyph', title: '爪哇文字ꦄ出現在標題' }), ...edition().articles],
    });
    const r = await renderCards(bad, ctx, { editionDir: dir, progress: false });
    expect(r.failures).toHaveLength(2); // og + square of the bad item
    for (const f of r.failures) {
      expect(f).toMatchObject({ itemId: 'bad-glyph', code: 'CARD_MISSING_GLYPH' });
      expect(f.message).toContain('U+A984');
    }
    expect(r.cards).toHaveLength(20);
    expect(r.cards.some((c) => c.itemId === 'bad-glyph')).toBe(false);
    // Its captions are still written: text has no glyph limits.
    expect(r.posts.filter((p) => p.itemId === 'bad-glyph')).toHaveLength(6);
  });

  it('renders through the worker pool the same as in-process', async () => {
    const dirA = tmp();
    const dirB = tmp();
    const inProcess = await renderCards(edition(), ctx, { editionDir: dirA, progress: false });
    const pooled = await renderCards(
      edition(),
      context({ formats: ['og', 'square'], workers: 2, poolThreshold: 1 }),
      {
        editionDir: dirB,
        progress: false,
      },
    );
    expect(pooled.failures).toEqual([]);
    expect(pooled.cards.map((c) => [c.id, c.sha256])).toEqual(inProcess.cards.map((c) => [c.id, c.sha256]));
  });
});

describe('pruning', () => {
  it('removes the cards of an item that left the edition, and formats no longer configured', async () => {
    const dir = tmp();
    const full = edition();
    await renderCards(full, ctx, { editionDir: dir, progress: false });
    writeFileSync(join(dir, 'cards/china-ai-patents-lead/.og.png.abc123.tmp'), 'crash leftover');
    const dropped = full.articles.find((a) => a.id !== 'china-ai-patents-lead')!;
    const smaller = edition({ articles: full.articles.filter((a) => a !== dropped) });
    const ogOnly = context({ formats: ['og'], workers: 0 });
    const r = await renderCards(smaller, ogOnly, { editionDir: dir, progress: false });
    expect(r.failures).toEqual([]);
    expect(existsSync(join(dir, 'cards', dropped.id))).toBe(false);
    expect(existsSync(join(dir, 'cards/china-ai-patents-lead/square.png'))).toBe(false);
    expect(existsSync(join(dir, 'cards/china-ai-patents-lead/.og.png.abc123.tmp'))).toBe(false);
    // What the manifest lists is all that is left.
    const left = readdirSync(join(dir, 'cards'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)))
      .sort();
    expect(left).toEqual([...r.cards.map((c) => c.path), ...r.posts.map((p) => p.path)].sort());
  });
});
