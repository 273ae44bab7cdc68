import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphemes } from '../../src/cards/fonts.ts';
import { squashInner, squashLine } from '../../src/cards/punct.ts';
import { type CardJob, cardSvg } from '../../src/cards/render.ts';
import { measure } from '../../src/cards/typeset.ts';
import { repoRoot } from '../fixtures/cards/edition.ts';

// CLREQ adjacent-punctuation compression: which marks drop their blank half,
// that line measures agree, and that satori draws the squashed mark half an em
// before the next character.

const sq = (s: string) => squashLine(graphemes(s)).join(',');

describe('which marks are squashed', () => {
  it('a closing bracket before more punctuation drops its right half; centred marks never', () => {
    expect(squashInner(graphemes('者」。」'))).toEqual(['', 'r', '', '']);
    expect(squashInner(graphemes('（專訪），'))).toEqual(['', '', '', 'r', '']);
    expect(squashInner(graphemes('說，「好」'))).toEqual(['', '', 'l', '', '']);
    expect(squashInner(graphemes('」「'))).toEqual(['r', 'l']);
    expect(squashInner(graphemes('。，'))).toEqual(['', '']);
  });
  it('a line-initial opener and a line-final closer drop their blank half', () => {
    expect(sq('「技術」')).toBe('l,,,r');
    expect(sq('中國')).toBe(',');
  });
  it('a line measures half an em less per squashed mark', () => {
    const m = { size: 40, weight: 700 };
    expect(measure('者」。', m)).toBeCloseTo(measure('者', m) + 20 + measure('。', m), 5);
    expect(measure('「好', m)).toBeCloseTo(20 + measure('好', m), 5);
  });
});

describe('satori draws the squash', () => {
  it('」 before 。 sits in a half-em box; a line-initial 「 hangs into the margin', async () => {
    const job: CardJob = {
      id: 'punct/og',
      kind: 'quote',
      format: 'og',
      data: {
        text: '中國正從「技術追趕者」。',
        by: '劉權',
        role: '研究員',
        title: '標題',
        section: '中國',
        date: '2025年11月10日',
      },
      templatesDir: resolve(repoRoot, 'templates'),
      brand: {
        name: '大公報',
        url: 'https://news.example.com/',
        colors: { primary: '#a4161a', ink: '#1a1a1a', muted: '#5c5c5c', paper: '#ffffff', accent: '#c8102e' },
      },
      pngCompression: 1,
    };
    const svg = await cardSvg(job, { embedFont: false });
    const runs = Array.from(
      svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"[^>]*font-size="([\d.]+)"[^>]*>([^<]*)<\/text>/g),
      (m) => ({
        x: Number(m[1]),
        size: Number(m[3]),
        t: m[4]!,
      }),
    ).filter((r) => r.size > 40);
    const close = runs.findIndex((r) => r.t === '』');
    expect(close).toBeGreaterThan(0);
    const next = runs[close + 1]!;
    // 。 starts half an em after 』, not a full em.
    expect(next.x - runs[close]!.x).toBeCloseTo(runs[close]!.size / 2, 0);
    // The quote's opening 「 starts half an em left of the next line's first character.
    const open = runs.find((r) => r.t === '「')!;
    expect(open).toBeDefined();
  });
});
