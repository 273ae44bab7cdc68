import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CARD_FORMATS, CARD_KINDS, type CardFormat, type CardKind } from '../../src/cards/config.ts';
import { firstMissingGlyph, graphemes } from '../../src/cards/fonts.ts';
import { FORMATS } from '../../src/cards/formats.ts';
import type { CardDataByKind } from '../../src/cards/layout-api.ts';
import { findOverflow } from '../../src/cards/overflow.ts';
import { type CardJob, cardPixels, cardSvg, cardTree } from '../../src/cards/render.ts';
import { fitText, measure, NO_END, NO_START } from '../../src/cards/typeset.ts';
import { repoRoot } from '../fixtures/cards/edition.ts';

// Property-based tests of the card typesetter: generated headlines, deks,
// quotes and figures mixing Traditional Chinese (HKSCS, CJK Extension B),
// Latin words of 1–60 letters, model names, URLs, figures with units, emoji
// sequences and punctuation. Seeded and bounded, so a run is repeatable; a
// failure prints the seed and the shrunk counterexample.

const SEED = 20251110;

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const HAN = [
  '中國',
  '人工智能',
  '專利量',
  '全球居首',
  '高管',
  '規則定義者',
  '技術追趕者',
  '發展報告',
  '香港',
  '特區政府',
  '立法會',
  '施政報告',
  '開源模型',
  '算力芯片',
  '突破',
  '的',
  '了',
  '和',
  '在',
  '將於',
  '表示',
  '認為',
  '啲',
  '嘅',
  '咗',
  '冇',
  '嚟',
  '㗎',
  '𨋢',
  '𡃁',
  '𠝹',
  '𥄫',
  '𧨾',
  '𨳒',
  // Mainland simplified, drawn from the fallback face.
  '刘强东',
  '我们这代人',
  '说到做到',
];
const MODELS = [
  'Qwen2.5-VL-72B-Instruct-AWQ-Int4',
  'DeepSeek-R1',
  'DeepSeek-V3.2-Exp',
  'GPT-4o',
  'Llama-3.1-405B-Instruct-FP8',
  'H100',
  'Kimi-K2-Instruct-0905',
  'gemma-3-27b-it-qat-q4_0-gguf',
];
const URLS = [
  'https://huggingface.co/Qwen/Qwen2.5-VL-72B-Instruct-AWQ',
  'https://www.info.gov.hk/gia/general/202511/10/P2025111000123.htm',
  'www.example.com/a/very/long/path/segment?query=value&other=1',
];
const EMOJI = ['👨‍👩‍👧‍👦', '🇭🇰', '1️⃣', '👍🏽', '❤️', '😀', '🏳️‍🌈', '👩🏻‍💻', '🧑‍🤝‍🧑', '#️⃣'];
const PUNCT = [
  '「',
  '」',
  '『',
  '』',
  '（',
  '）',
  '，',
  '。',
  '、',
  '！',
  '？',
  '：',
  '；',
  '……',
  '——',
  '《',
  '》',
  '」。',
  '），',
];
const UNITS = ['%', '億元', '萬人', '家', '億', '萬億元', 'PB', '倍', '元', '項'];
const LATIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

const latinWord = fc.string({ unit: pick([...LATIN]), minLength: 1, maxLength: 60 });
const figure = fc
  .tuple(fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: 0, max: 99 }), pick(UNITS))
  .map(([a, b, u]) => `${a}${b ? `.${b}` : ''}${u}`);
const date = fc
  .tuple(
    fc.integer({ min: 2000, max: 2030 }),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 28 }),
  )
  .map(([y, m, d]) => `${y}年${m}月${d}日`);
const piece = fc.oneof(
  { weight: 6, arbitrary: pick(HAN) },
  { weight: 2, arbitrary: latinWord },
  { weight: 1, arbitrary: pick(MODELS) },
  { weight: 1, arbitrary: pick(URLS) },
  { weight: 2, arbitrary: figure },
  { weight: 1, arbitrary: date },
  { weight: 1, arbitrary: pick(EMOJI) },
  { weight: 2, arbitrary: pick(PUNCT) },
  { weight: 1, arbitrary: fc.constant(' ') },
);
const text = (min: number, max: number) =>
  fc.array(piece, { minLength: min, maxLength: max }).map((xs) => xs.join('').trim() || '中國');

const value = fc.oneof(
  fc.double({ min: 1e-7, max: 1e-2, noNaN: true }),
  fc.double({ min: -1e4, max: 1e4, noNaN: true }),
  fc.double({ min: 1e4, max: 1e15, noNaN: true }),
  fc.constant(0),
);
const stat = fc.record({
  value,
  unit: pick(UNITS),
  label: text(1, 5),
  period: fc.option(text(1, 3), { nil: undefined }),
  change: fc.option(
    fc.record({ value, unit: pick(UNITS), versus: pick(['2024年12月', '較前一年', '同比', '前一年']) }),
    { nil: undefined },
  ),
});

const data: { [K in CardKind]: fc.Arbitrary<CardDataByKind[K]> } = {
  article: fc.record({
    kicker: fc.option(text(1, 3), { nil: undefined }),
    title: text(1, 14),
    dek: text(0, 18),
    section: text(1, 2),
    byline: text(1, 4),
    date,
  }),
  quote: fc.record({
    text: text(1, 24),
    by: text(1, 2),
    role: text(1, 6),
    title: text(1, 10),
    section: text(1, 2),
    date,
  }),
  stat: fc.record({ setTitle: text(1, 4), heading: text(1, 4), stat, credit: text(1, 4), date }),
  statset: fc.record({
    setTitle: text(1, 4),
    heading: text(1, 4),
    stats: fc.array(stat, { minLength: 1, maxLength: 4 }),
    chart: fc.boolean(),
    credit: text(1, 4),
    date,
  }),
};

const brand = {
  name: '大公報',
  url: 'https://news.example.com/',
  colors: { primary: '#a4161a', ink: '#1a1a1a', muted: '#5c5c5c', paper: '#ffffff', accent: '#c8102e' },
};
const job = <K extends CardKind>(kind: K, format: CardFormat, d: CardDataByKind[K]): CardJob => ({
  id: `prop/${format}`,
  kind,
  format,
  data: d,
  templatesDir: resolve(repoRoot, 'templates'),
  brand,
  pngCompression: 1,
});

describe('generated text uses only characters the fonts have', () => {
  it('every listed character has a glyph', () => {
    for (const s of [...HAN, ...MODELS, ...URLS, ...EMOJI, ...PUNCT, ...UNITS, LATIN])
      expect(firstMissingGlyph(s), s).toBeUndefined();
  });
});

describe('fitText on generated text', () => {
  it('no line breaks kinsoku, splits a grapheme, exceeds its width; all text kept or clamped with …', () => {
    fc.assert(
      fc.property(
        text(1, 30),
        fc.integer({ min: 200, max: 1400 }),
        fc.integer({ min: 24, max: 90 }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        (t, width, max, maxLines, bold) => {
          const min = Math.max(12, Math.round(max * 0.6));
          const weight = bold ? 700 : 400;
          const r = fitText(t, { weight, max, min, width, maxLines });
          expect(r.lines.length).toBeLessThanOrEqual(maxLines);
          for (const line of r.lines)
            expect(measure(line, { size: r.size, weight }), line).toBeLessThanOrEqual(width);
          r.lines.forEach((line, i) => {
            const gs = graphemes(line);
            if (i > 0) expect(NO_START.has(gs[0]!), `line ${i} starts with ${gs[0]}: ${r.lines}`).toBe(false);
            if (i < r.lines.length - 1)
              expect(NO_END.has(gs.at(-1)!), `line ${i} ends with ${gs.at(-1)}: ${r.lines}`).toBe(false);
          });
          // Graphemes: the lines, minus our added hyphens and ellipsis, are whole
          // graphemes of the source in order, so no cluster was cut.
          const source = graphemes(t.replace(/\s+/g, ''));
          let at = 0;
          r.lines.forEach((l, i) => {
            const g = graphemes(l.replace(/\s+/g, ''));
            if (r.truncated && i === r.lines.length - 1) g.pop(); // the ellipsis
            g.forEach((c, k) => {
              // A hyphen we added at the end of a line broken inside a word.
              if (k === g.length - 1 && c === '-' && source[at] !== '-') return;
              expect(c, `${JSON.stringify(r.lines)} vs ${t}`).toBe(source[at]);
              at++;
            });
          });
          if (r.truncated) expect(r.lines.at(-1)!.endsWith('…')).toBe(true);
          else expect(at).toBe(source.length);
        },
      ),
      { seed: SEED, numRuns: 600 },
    );
  });
});

describe('cards on generated text, every kind × format', () => {
  for (const kind of CARD_KINDS) {
    it(`${kind}: renders, nothing outside the safe area, nothing overlapping`, async () => {
      await fc.assert(
        fc.asyncProperty(data[kind] as fc.Arbitrary<CardDataByKind[CardKind]>, async (d) => {
          for (const format of CARD_FORMATS) {
            const j = job(kind, format, d);
            // cardSvg itself fails with CARD_OVERFLOW rather than draw outside; check again independently.
            const svg = await cardSvg(j, { embedFont: false });
            const tree = await cardTree(j);
            const pad = Number(tree.props.style?.padding);
            const { width, height } = FORMATS[format];
            expect(findOverflow(svg, { left: pad, top: pad, right: width - pad, bottom: height - pad })).toBe(
              undefined,
            );
          }
        }),
        { seed: SEED, numRuns: 60 },
      );
    }, 120_000);
  }

  it('no ink outside the safe area, in pixels (glyph-cache renderer)', async () => {
    await fc.assert(
      fc.asyncProperty(pick(CARD_KINDS), pick(CARD_FORMATS), fc.nat(), async (kind, format, n) => {
        const arb = data[kind] as unknown as fc.Arbitrary<CardDataByKind[CardKind]>;
        const d = fc.sample(arb, { seed: SEED + n, numRuns: 1 })[0]!;
        const j = job(kind, format, d);
        const tree = await cardTree(j);
        const pad = Number(tree.props.style?.padding);
        const { pixels, width, height } = await cardPixels(j);
        const topBar = Math.round(10 * FORMATS[format].scale) + 1;
        let stray = 0;
        for (let y = topBar; y < height; y++)
          for (let x = 0; x < width; x++) {
            if (x >= pad - 1 && x < width - pad + 1 && y >= pad - 1 && y < height - pad + 1) continue;
            const i = (y * width + x) * 4;
            if (pixels[i]! < 235 || pixels[i + 1]! < 235 || pixels[i + 2]! < 235) stray++;
          }
        expect(stray, `${kind}/${format}`).toBe(0);
      }),
      { seed: SEED, numRuns: 48 },
    );
  }, 120_000);
});
