import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CARD_FORMATS } from '../../src/cards/config.ts';
import { type CardJob, cardSvg } from '../../src/cards/render.ts';
import { breakLines, fitText, measure, NO_END, NO_START, tokenize } from '../../src/cards/typeset.ts';
import { article, repoRoot } from '../fixtures/cards/edition.ts';

// The line-break rules, asserted on our breaker and on what satori actually
// lays out (embedFont:false → <text> elements we can read back).

const PROTECTED = ['DeepSeek-R1', 'H100', '38.58%', '2.9萬億元', '第15位'];
const HEADLINES = [
  '中國AI突飛猛進 專利量全球居首：DeepSeek-R1打破「算力至上」神話，專利佔38.58%，規模2.9萬億元，H100位列第15位',
  '「十五五」開局：寒武紀思元690芯片性能接近英偉達H100，優於H20；DeepSeek-R1開源！規模2.9萬億元？',
  '（專訪）劉權：國產開源模型在全球前10中佔據9席、專利佔比38.58%，中國正從「技術追趕者」轉變為「規則定義者」',
];

/**
 * The rules every set of lines obeys. With `fit` (the breaker's own width and
 * size), also: no line wider than the width, and a protected token is split
 * only when it alone is wider than the line.
 */
function checkLines(lines: string[], source: string, fit?: { width: number; size: number; weight: number }) {
  if (fit)
    for (const l of lines)
      expect(measure(l, fit), `${l} wider than ${fit.width}: ${JSON.stringify(lines)}`).toBeLessThanOrEqual(
        fit.width,
      );
  for (const [i, line] of lines.entries()) {
    const first = [...line][0]!;
    const last = [...line].at(-1)!;
    if (i > 0)
      expect(NO_START.has(first), `line ${i} starts with ${first}: ${JSON.stringify(lines)}`).toBe(false);
    if (i < lines.length - 1)
      expect(NO_END.has(last), `line ${i} ends with ${last}: ${JSON.stringify(lines)}`).toBe(false);
  }
  const joined = lines.join('');
  for (const t of PROTECTED) {
    if (!source.includes(t) || !joined.includes(t)) continue;
    // Wider than the line with the punctuation glued to it (38.58%，): it must break.
    const glued =
      new RegExp(`[「『（《〈【]*${t.replace(/[.$+]/g, '\\$&')}[」』）》〉】，。、；：！？]*`).exec(
        source,
      )?.[0] ?? t;
    if (fit && measure(glued, fit) > fit.width * 0.97) continue;
    expect(
      lines.some((l) => l.includes(t)),
      `${t} split across lines: ${JSON.stringify(lines)}`,
    ).toBe(true);
  }
}

describe('tokenize', () => {
  it('keeps Latin words and figures with their units whole', () => {
    const toks = tokenize('DeepSeek-R1與H100，佔38.58%，達2.9萬億元，第15位').map((t) => t.text);
    for (const t of ['DeepSeek-R1', 'H100', '38.58%', '2.9萬億元', '第15位']) expect(toks).toContain(t);
  });
  it('glues closing punctuation to what precedes and opening brackets to what follows', () => {
    const toks = tokenize('他說「好」。');
    const closer = toks.find((t) => t.text === '」')!;
    const opener = toks.findIndex((t) => t.text === '「');
    expect(closer.breakBefore).toBe(false);
    expect(toks[opener + 1]!.breakBefore).toBe(false);
  });
});

describe('breakLines across widths', () => {
  for (const text of HEADLINES) {
    it(`obeys the rules at every width: ${text.slice(0, 12)}…`, () => {
      for (let width = 180; width <= 1400; width += 37) {
        for (const size of [28, 44, 64])
          checkLines(breakLines(text, width, { size, weight: 700 }), text, { width, size, weight: 700 });
      }
    });
  }
});

describe('fitText', () => {
  it('sizes down before clamping, and clamps with an ellipsis', () => {
    const short = fitText('中國AI突飛猛進', { weight: 700, max: 64, min: 40, width: 1000, maxLines: 2 });
    expect(short).toMatchObject({ size: 64, truncated: false, lines: ['中國AI突飛猛進'] });
    const mid = fitText(HEADLINES[0]!, { weight: 700, max: 64, min: 36, width: 1000, maxLines: 3 });
    expect(mid.size).toBeLessThan(64);
    expect(mid.truncated).toBe(false);
    const long = fitText(HEADLINES[0]!.repeat(3), { weight: 700, max: 64, min: 44, width: 600, maxLines: 2 });
    expect(long.truncated).toBe(true);
    expect(long.lines).toHaveLength(2);
    expect(long.lines[1]!.endsWith('…')).toBe(true);
  });
});

/** Visual lines of satori's output: <text> runs grouped by baseline, in x order. */
function satoriLines(svg: string): string[] {
  const runs = Array.from(svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)<\/text>/g), (m) => ({
    x: Number(m[1]),
    y: Math.round(Number(m[2])),
    t: m[3]!
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"'),
  }));
  const byY = new Map<number, typeof runs>();
  for (const r of runs) byY.set(r.y, [...(byY.get(r.y) ?? []), r]);
  return [...byY.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, rs]) =>
      rs
        .sort((a, b) => a.x - b.x)
        .map((r) => r.t)
        .join('')
        .trim(),
    );
}

describe('satori lays out our lines unchanged', () => {
  const brand = {
    name: '大公報',
    url: 'https://news.example.com/',
    colors: { primary: '#a4161a', ink: '#1a1a1a', muted: '#5c5c5c', paper: '#ffffff', accent: '#c8102e' },
  };
  for (const title of HEADLINES) {
    it(`headline + dek in every format: ${title.slice(0, 12)}…`, async () => {
      for (const format of CARD_FORMATS) {
        const a = article({ title, dek: HEADLINES[(HEADLINES.indexOf(title) + 1) % HEADLINES.length]! });
        const job: CardJob = {
          id: `${a.id}/${format}`,
          kind: 'article',
          format,
          data: {
            title: a.title,
            dek: a.dek,
            kicker: a.kicker,
            section: a.section,
            byline: '大公報　郭瀚林',
            date: '2025年12月10日',
          },
          templatesDir: resolve(repoRoot, 'templates'),
          brand,
          pngCompression: 1,
        };
        const lines = satoriLines(await cardSvg(job, { embedFont: false }));
        expect(lines.length).toBeGreaterThan(2);
        checkLines(lines, title + a.dek);
      }
    });
  }
});
