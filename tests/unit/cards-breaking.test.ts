import { describe, expect, it } from 'vitest';
import { graphemes } from '../../src/cards/fonts.ts';
import { breakLines, fitText, measure } from '../../src/cards/typeset.ts';

// The breaking rules of issue 11, case by case: graphemes, long Latin tokens,
// Chinese words and phrases, dates, orphans and the ellipsis.

const FAMILY = '👨‍👩‍👧‍👦';
const MODEL = 'Qwen2.5-VL-72B-Instruct-AWQ-Int4';
const bold = (size: number) => ({ size, weight: 700 });
const widths = (from: number, to: number, step: number) =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

/** Every line is a run of whole graphemes of `text` (plus an added hyphen), in order. */
function wholeGraphemes(lines: string[], text: string) {
  const src = graphemes(text.replace(/\s+/g, ''));
  let at = 0;
  for (const line of lines) {
    const g = graphemes(line.replace(/\s+/g, ''));
    g.forEach((c, k) => {
      if (k === g.length - 1 && c === '-' && src[at] !== '-') return;
      expect(c, JSON.stringify(lines)).toBe(src[at]);
      at++;
    });
  }
  expect(at).toBe(src.length);
}

describe('graphemes are never split, measured or clamped in pieces', () => {
  const texts = [
    `港人週末${FAMILY}出遊`,
    `香港🇭🇰加油 1️⃣2️⃣3️⃣ 👍🏽👍🏿 ❤️ 🏳️‍🌈 👩🏻‍💻`,
    'Cafe\u0301 naïve e\u0301le\u0300ve 葛\u{E0100}飾區',
  ];
  for (const t of texts)
    it(JSON.stringify(t), () => {
      for (const width of widths(40, 700, 23)) wholeGraphemes(breakLines(t, width, bold(40)), t);
    });

  it('the family emoji is one cluster wide (1 em), not eleven code units', () => {
    expect(measure(FAMILY, bold(100))).toBe(100);
    const lines = breakLines(FAMILY.repeat(6), 250, bold(100));
    expect(lines.every((l) => graphemes(l).every((g) => g === FAMILY))).toBe(true);
  });

  it('a clamp cuts before a cluster, never inside one', () => {
    const r = fitText(FAMILY.repeat(40), { weight: 700, max: 60, min: 60, width: 500, maxLines: 1 });
    expect(r.truncated).toBe(true);
    const g = graphemes(r.lines[0]!);
    expect(g.at(-1)).toBe('…');
    expect(g.slice(0, -1).every((c) => c === FAMILY)).toBe(true);
  });
});

describe('long Latin tokens', () => {
  it('a token that fits on a line is never broken', () => {
    const text = `阿里巴巴發布${MODEL}模型，DeepSeek-R1緊隨其後`;
    for (const width of widths(400, 1400, 50)) {
      const lines = breakLines(text, width, bold(36));
      if (measure(MODEL, bold(36)) <= width * 0.97)
        expect(
          lines.some((l) => l.includes(MODEL)),
          `${width}`,
        ).toBe(true);
      expect(
        lines.some((l) => l.includes('DeepSeek-R1')),
        `${width}: ${lines}`,
      ).toBe(true);
    }
  });

  it('sizes down first; only if it still does not fit does it break', () => {
    // 76 px: the model name is wider than 1100 px; at 60 it fits.
    expect(measure(MODEL, bold(76))).toBeGreaterThan(1100 * 0.97);
    expect(measure(MODEL, bold(60))).toBeLessThan(1100 * 0.97);
    const r = fitText(`${MODEL}開源`, { weight: 700, max: 76, min: 44, width: 1100, maxLines: 3 });
    expect(r.size).toBeLessThan(76);
    expect(r.lines.some((l) => l.includes(MODEL))).toBe(true);
  });

  it('breaks at hyphens, dots, slashes, camelCase and letter|digit before breaking between letters', () => {
    const lines = breakLines(MODEL, 300, bold(40));
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(measure(l, bold(40))).toBeLessThanOrEqual(300);
    // Every piece ends at a hyphen of the name or a letter|digit boundary: no added hyphen.
    expect(lines.join('')).toBe(MODEL);
    const url = 'https://huggingface.co/Qwen/Qwen2.5-VL-72B-Instruct-AWQ';
    const u = breakLines(url, 360, bold(36));
    expect(u.join('')).toBe(url); // URLs never get a hyphen
    for (const l of u.slice(1)) expect(l[0]).not.toMatch(/[.,?:%]/);
  });

  it('a single word longer than the line breaks between letters with a hyphen, keeping 2 + 3 letters', () => {
    const word = 'Pneumonoultramicroscopicsilicovolcanoconiosis';
    const lines = breakLines(word, 300, bold(40));
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(0, -1)) expect(l.endsWith('-')).toBe(true);
    expect(lines.map((l) => l.replace(/-$/, '')).join('')).toBe(word);
    for (const l of lines) expect(l.replace(/-$/, '').length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)!.length).toBeGreaterThanOrEqual(3);
  });
});

describe('Chinese words and phrases', () => {
  /** No line boundary falls inside `word`, unless the word alone is wider than the line. */
  function keeps(text: string, words: string[], size: number, width: number) {
    const lines = breakLines(text, width, bold(size));
    for (let i = 0; i < lines.length - 1; i++) {
      const seam = lines[i]! + lines[i + 1]!;
      for (const w of words) {
        if (measure(w, bold(size)) > width * 0.97) continue;
        const at = seam.indexOf(w);
        if (at >= 0)
          expect(
            at >= lines[i]!.length || at + w.length <= lines[i]!.length,
            `${w} split at ${width}px: ${JSON.stringify(lines)}`,
          ).toBe(true);
      }
    }
  }
  const cases: [string, string[]][] = [
    ['何立峰會見美企高管：中美應拉長合作清單 壓縮問題清單', ['高管', '清單']],
    [
      '當前，國產開源模型在全球前10中佔據9席，形成了技術輸出新格局，中國正從「技術追趕者」轉變為「規則定義者」和「生態構建者」。',
      ['規則定義者', '技術追趕者', '生態構建者'],
    ],
    ['高管表示《人工智能發展報告》將於2025年11月10日發布', ['高管', '報告》', '2025年11月10日']],
  ];
  for (const [text, words] of cases)
    it(text.slice(0, 14), () => {
      // From ten characters a line (card headlines have 9–20, quotes 17–23): narrower, a five-character term may have to break.
      for (const width of widths(260, 1200, 31))
        for (const size of [32, 48, 64]) if (width / size >= 10) keeps(text, words, size, width);
    });

  it('the last line is not a lone character or a lone closing mark when a better break exists', () => {
    const quote = `「${cases[1]![0].replace(/「/g, '『').replace(/」/g, '』')}」`;
    for (const width of widths(600, 1100, 25)) {
      const r = fitText(quote, { weight: 700, max: 50, min: 32, width, maxLines: 7, lineHeight: 1.45 });
      const last = graphemes(r.lines.at(-1)!).filter((g) => !/[」』。，、！？）]/u.test(g));
      expect(last.length, `${width}: ${JSON.stringify(r.lines)}`).toBeGreaterThan(2);
    }
  });

  it('a headline balances rather than leave one character on the last line', () => {
    const r = fitText('中國從AI「技術追趕者」變為「規則定義者」', {
      weight: 700,
      max: 76,
      min: 50,
      width: 640,
      maxLines: 4,
    });
    expect(graphemes(r.lines.at(-1)!).length).toBeGreaterThan(3);
    expect(r.lines.join('')).toBe('中國從AI「技術追趕者」變為「規則定義者」');
  });
});
