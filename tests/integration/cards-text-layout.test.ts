import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CARD_FORMATS, type CardFormat } from '../../src/cards/config.ts';
import type { CardNode } from '../../src/cards/layout-api.ts';
import { type CardJob, cardSvg, cardTree } from '../../src/cards/render.ts';
import { standInImages } from '../../src/cards/stand-ins.ts';
import { insertTexts, planTexts } from '../../src/cards/text-plan.ts';
import { BroadsheetError } from '../../src/errors/index.ts';
import { fixtureItems } from '../fixtures/cards/edition.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';
import { testContext } from '../helpers/context.ts';
import { sampleCards } from '../helpers/sample-cards.ts';

// src/cards/text-layout.ts lays plain text out the way satori does and
// leaves satori only the boxes; src/cards/stand-ins.ts gives satori a stand-in
// of each photo's and portrait's size instead of its data. The SVG must be the
// same, byte for byte, as satori's own on the real tree (`satoriAlone`) — for
// every card the sample edition draws, and for text nobody here wrote — and an
// error must be the same error.

type Outcome = { svg: string } | { code: string; params: unknown };

async function outcome(j: CardJob, satoriAlone: boolean): Promise<Outcome> {
  try {
    return { svg: await cardSvg(j, { embedFont: false, satoriAlone }) };
  } catch (e) {
    if (e instanceof BroadsheetError) return { code: e.code, params: e.params };
    throw e;
  }
}

async function expectSame(j: CardJob) {
  const theirs = await outcome(j, true);
  const ours = await outcome(j, false);
  expect(ours, j.id).toEqual(theirs);
  return theirs;
}

const out = tempDir('bs-text-layout-');
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('text laid out outside satori', () => {
  it('draws every card of the sample edition as satori does (every kind × format, photos and portraits)', async () => {
    const ctx = testContext({ root: resolve(import.meta.dirname, '../..'), paths: { out } });
    const { jobsFor } = await sampleCards(ctx);
    const jobs = await jobsFor(CARD_FORMATS);
    expect(new Set(jobs.map((j) => j.kind)).size).toBe(4);
    let taken = 0;
    let images = 0;
    for (const j of jobs) {
      expect('svg' in (await expectSame(j)), j.id).toBe(true);
      const tree = await cardTree(j);
      taken += (await planTexts(tree))?.taken.size ?? 0;
      // Each photo and portrait (a data: URL) reaches satori as a stand-in of ~60 characters.
      const src = (t: CardNode): string[] => [
        ...(t.type === 'img' ? [String(t.props.src)] : []),
        ...[t.props.children].flat().flatMap((c) => (c && typeof c === 'object' ? src(c as CardNode) : [])),
      ];
      const before = src(tree);
      const after = src(standInImages(tree).tree);
      for (const [i, s] of after.entries()) {
        if (before[i]!.length > 1000) expect(s.length, j.id).toBeLessThan(100);
        if (s !== before[i]) images++;
      }
    }
    expect(images).toBeGreaterThan(20);
    // It is used: most texts of a card (headline, dek, footer, masthead) are ours.
    expect(taken / jobs.length).toBeGreaterThan(5);
  });

  // Text nobody here wrote (seeded): Traditional and simplified Chinese, Latin
  // words and model names, digits, punctuation that squashes, spaces of every
  // width, emoji, and strings long enough to squeeze or overflow.
  const piece = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom(...'港聞數讀經濟科技政府醫療房屋教育交通運輸環境氣候體育文化藝術'),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom('Qwen2.5-VL-72B-Instruct-AWQ-Int4', 'GPU', 'AI', 'iPhone', 'x86_64', '2025'),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom('，', '。', '「', '」', '『', '』', '（', '）', '：', '、', '…', '—'),
    },
    { weight: 2, arbitrary: fc.constantFrom(' ', '\u00a0', '\u3000', '  ') },
    { weight: 1, arbitrary: fc.constantFrom('们', '这', '😀', '👨‍👩‍👧', '🇭🇰', '1️⃣', '&', '<b>', '"', "'") },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }) },
  );
  const text = (max: number) =>
    fc.array(piece, { minLength: 1, maxLength: max }).map((p) => p.join('').trim() || '港聞');
  const fields = fc.record({
    short: text(6),
    line: text(14),
    long: text(48),
  });
  const samples = fc.sample(fields, { seed: 1612, numRuns: 30 });
  const { items, brand, ctx } = fixtureItems();

  const mutate = (kind: CardJob['kind'], data: object, s: (typeof samples)[number]): object => {
    switch (kind) {
      case 'article':
        return { ...data, kicker: s.short, title: s.line, dek: s.long, section: s.short, byline: s.line };
      case 'quote':
        return { ...data, text: s.long, by: s.short, role: s.line, title: s.line, section: s.short };
      default:
        return { ...data, setTitle: s.short, heading: s.line, credit: s.line };
    }
  };

  it('lays out generated text as satori does, or fails with the same error, at every format', async () => {
    let drawn = 0;
    let taken = 0;
    for (let i = 0; i < samples.length; i++) {
      const item = items[i % items.length]!;
      for (const format of [CARD_FORMATS[i % CARD_FORMATS.length]!, 'og' as CardFormat]) {
        const j: CardJob = {
          id: `${item.itemId}-gen${i}/${format}`,
          kind: item.kind,
          format,
          data: mutate(item.kind, item.data as object, samples[i]!) as CardJob['data'],
          templatesDir: ctx.paths.templates,
          brand,
          pngCompression: 3,
        };
        const r = await expectSame(j);
        if ('svg' in r) {
          drawn++;
          taken += (await planTexts(await cardTree(j)))?.taken.size ?? 0;
        }
      }
    }
    // Most are drawn (the rest overflow or lack a glyph, the same way both ways).
    expect(drawn).toBeGreaterThan(samples.length);
    expect(taken / drawn).toBeGreaterThan(3);
  });

  it('leaves to satori what it does not lay out itself', async () => {
    const div = (style: Record<string, unknown>, ...children: (CardNode | string)[]): CardNode => ({
      type: 'div',
      props: { style: { display: 'flex', ...style }, children },
    });
    const page = (...children: CardNode[]) =>
      div(
        { fontFamily: 'Noto Sans HK', color: '#1a1a1a', flexDirection: 'column', width: 600, height: 300 },
        ...children,
      );
    const pre = { whiteSpace: 'pre' };
    const taken = async (tree: CardNode) => (await planTexts(tree))?.taken.size ?? 0;
    expect(await taken(page(div(pre, '港聞 AI\n第二行')))).toBe(1);
    for (const [why, tree] of [
      ['emoji', page(div(pre, '港聞😀'))],
      ['a character only the fallback face has', page(div(pre, '他们'))],
      ['a tab', page(div(pre, '港\t聞'))],
      ['soft wrapping', page(div({}, '港聞 AI'))],
      ['centred text', page(div({ ...pre, textAlign: 'center' }, '港聞'))],
      ['a baseline row', page(div({ alignItems: 'baseline' }, div(pre, '42'), div(pre, '%')))],
      ['opacity above it', page(div({ opacity: 0.5 }, div(pre, '港聞')))],
      ['not displayed', page(div({ ...pre, display: 'none' }, '港聞'))],
      ['a block container above it', page(div({ display: 'block' }, div(pre, '港聞')))],
      ['a named colour', page(div({ ...pre, color: 'red' }, '港聞'))],
      ['a fixed width that shrinks', page(div({ ...pre, width: 20 }, '港聞'))],
      ['a stretched background', page(div({ ...pre, backgroundColor: '#ffffff' }, '港聞'))],
    ] as const)
      expect(await taken(tree), why).toBe(0);
  });

  it('gives up on an element satori did not report or draw (the card is then laid out by satori alone)', async () => {
    const tree: CardNode = {
      type: 'div',
      props: {
        style: { display: 'flex', fontFamily: 'Noto Sans HK', color: '#1a1a1a', width: 300, height: 100 },
        children: [
          { type: 'div', props: { style: { display: 'flex', whiteSpace: 'pre' }, children: ['港聞'] } },
        ],
      },
    };
    const plan = (await planTexts(tree))!;
    expect([...plan.taken.keys()]).toEqual(['id-0']);
    const svg = '<svg><mask id="satori_om-id"><rect/></mask><mask id="satori_om-id-0"><rect/></mask></svg>';
    const canvas = { width: 300, height: 100 };
    expect(insertTexts(svg, plan, new Map(), canvas)).toBeUndefined(); // not reported
    const placed = new Map([['id-0', { left: 0, top: 0 }]]);
    expect(insertTexts('<svg></svg>', plan, placed, canvas)).toBeUndefined(); // not drawn
    expect(insertTexts(svg, plan, placed, canvas)).toMatch(
      /<mask id="satori_om-id-0">.*<\/mask><text [^>]*>港<\/text><text [^>]*>聞<\/text><\/svg>$/,
    );
  });
});
