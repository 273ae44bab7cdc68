import { describe, expect, it } from 'vitest';
import { CARD_KINDS, type CardKind } from '../../src/cards/config.ts';
import { FORMATS } from '../../src/cards/formats.ts';
import type { StatSetCardData } from '../../src/cards/layout-api.ts';
import { type CardJob, cardPixels, cardSvg } from '../../src/cards/render.ts';
import type { Stat } from '../../src/content/model.ts';
import { arrangement } from '../../templates/cards/statset.ts';
import { fixtureItems } from '../fixtures/cards/edition.ts';

// Each platform's real frame, measured by pixel (issue 12): WeChat's shared
// thumbnail shows only the centre 383×383 of the 900×383 banner; Instagram and
// Facebook cover the top ≈250 and bottom ≈340 px of a story with their own UI.

const { ctx, items, brand } = fixtureItems();
const PAPER = [0xff, 0xff, 0xff];

function jobFor(kind: CardKind, format: CardJob['format'], pick = 0): CardJob {
  const item = items.filter((i) => i.kind === kind)[pick]!;
  return {
    id: `${item.itemId}/${format}`,
    kind,
    format,
    data: structuredClone(item.data),
    templatesDir: ctx.paths.templates,
    brand,
    pngCompression: 1,
  };
}

/** The bounding box of pixels that differ between two renders of the same size. */
async function diffBox(a: CardJob, b: CardJob) {
  const pa = await cardPixels(a);
  const pb = await cardPixels(b);
  let x0 = Infinity;
  let x1 = -Infinity;
  let n = 0;
  for (let i = 0; i < pa.pixels.length; i += 4) {
    if (
      Math.abs(pa.pixels[i]! - pb.pixels[i]!) +
        Math.abs(pa.pixels[i + 1]! - pb.pixels[i + 1]!) +
        Math.abs(pa.pixels[i + 2]! - pb.pixels[i + 2]!) >
      24
    ) {
      const x = (i / 4) % pa.width;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      n++;
    }
  }
  return { x0, x1, n };
}

/** The key message of each kind, changed: the headline, the figure, the quote. */
const changed: Record<CardKind, (j: CardJob) => CardJob> = {
  article: (j) => ({ ...j, data: { ...j.data, title: '港深創科合作 數據跨境新規落地' } as CardJob['data'] }),
  stat: (j) => {
    const d = j.data as { stat: Stat };
    return { ...j, data: { ...j.data, stat: { ...d.stat, value: 8.27 } } as CardJob['data'] };
  },
  statset: (j) => {
    const d = j.data as StatSetCardData;
    return { ...j, data: { ...d, stats: d.stats.map((s, i) => (i === 0 ? { ...s, value: 7.02 } : s)) } };
  },
  quote: (j) => ({
    ...j,
    data: { ...j.data, text: '數據要素市場化是下一個十年的主線。' } as CardJob['data'],
  }),
};

describe('WeChat 900×383: the centre square (x 258–641) holds the key message and the brand', () => {
  const x0 = (900 - 383) / 2;
  const x1 = x0 + 383;
  for (const kind of CARD_KINDS)
    it(kind, async () => {
      const base = jobFor(kind, 'wechat');
      // The key message's ink is exactly what changes when the message changes: all inside the crop.
      const msg = await diffBox(base, changed[kind](base));
      expect(msg.n).toBeGreaterThan(200);
      expect(msg.x0).toBeGreaterThanOrEqual(x0);
      expect(msg.x1).toBeLessThan(x1);
      // Likewise the brand mark.
      const mark = await diffBox(base, { ...base, brand: { ...brand, name: '文匯報' } });
      expect(mark.n).toBeGreaterThan(50);
      expect(mark.x0).toBeGreaterThanOrEqual(x0);
      expect(mark.x1).toBeLessThan(x1);
    });
});

describe('story 1080×1920: nothing but background in the platform safe zones', () => {
  const top = 250;
  const bottom = 1920 - 340;
  for (const kind of CARD_KINDS)
    it(kind, async () => {
      const { pixels, width } = await cardPixels(jobFor(kind, 'story'));
      let ink = 0;
      const rows = new Set<number>();
      for (let i = 0; i < pixels.length; i += 4) {
        const y = Math.floor(i / 4 / width);
        const bg = pixels[i] === PAPER[0] && pixels[i + 1] === PAPER[1] && pixels[i + 2] === PAPER[2];
        if (bg) continue;
        if (y < top || y >= bottom) ink++;
        else rows.add(y);
      }
      expect(ink).toBe(0);
      // The content uses the height between the zones rather than a band of it.
      const span = Math.max(...rows) - Math.min(...rows);
      expect(span / (bottom - top)).toBeGreaterThan(0.85);
    });
});

/** Horizontal runs of one bar colour starting at the zero line: each bar's length in px, top to bottom. */
function barLengths(pixels: Uint8Array, width: number, height: number) {
  const bars: { y: number; x0: number; len: number; rgb: string }[] = [];
  for (let y = 0; y < height; y++) {
    let x = 0;
    while (x < width) {
      const i = (y * width + x) * 4;
      const rgb = `${pixels[i]},${pixels[i + 1]},${pixels[i + 2]}`;
      let e = x;
      while (e < width) {
        const j = (y * width + e) * 4;
        if (`${pixels[j]},${pixels[j + 1]},${pixels[j + 2]}` !== rgb) break;
        e++;
      }
      // A bar: a long run of one colour that is neither paper nor near-black ink.
      if (e - x >= 3 && rgb !== '255,255,255' && Number(pixels[i]) > 120)
        bars.push({ y, x0: x, len: e - x, rgb });
      x = e;
    }
  }
  // One entry per bar: the rows of a bar are contiguous and the same length.
  const out: ((typeof bars)[number] & { h: number })[] = [];
  for (const b of bars) {
    const last = out.findLast((o) => o.x0 === b.x0 && o.rgb === b.rgb && o.y === b.y - 1 && o.len === b.len);
    if (last) {
      last.y = b.y;
      last.h++;
    } else out.push({ ...b, h: 1 });
  }
  // Bars start right of the zero line (page padding + its 2 px), and are thicker than a rule.
  const pad = Math.round(width === 1200 ? 56 : 64 * 1.15);
  return out.filter((b) => b.h >= 6 && b.x0 === pad + 2);
}

function chartJob(values: number[], format: CardJob['format'] = 'og', extra: Partial<Stat>[] = []): CardJob {
  const stats: Stat[] = values.map((value, i) => ({
    value,
    unit: '家',
    label: `第${i + 1}類企業`,
    ...extra[i],
  }));
  return {
    ...jobFor('statset', format, 1),
    data: {
      setTitle: '數讀測試',
      heading: '企業數目',
      stats,
      chart: true,
      credit: '測試',
      date: '2025年12月10日',
    },
  };
}

describe('bar charts are drawn on one scale', () => {
  it('4500 against 9000 draws exactly half; the largest is the highlight', async () => {
    for (const format of ['og', 'portrait'] as const) {
      const { pixels, width, height } = await cardPixels(chartJob([4500, 9000], format));
      const bars = barLengths(pixels, width, height);
      expect(bars).toHaveLength(2);
      // Same zero line.
      expect(bars[0]!.x0).toBe(bars[1]!.x0);
      expect(bars[0]!.len / bars[1]!.len).toBeCloseTo(0.5, 2);
      // The second (larger) bar carries the primary colour; the first does not.
      expect(bars[1]!.rgb).toBe('164,22,26');
      expect(bars[0]!.rgb).not.toBe('164,22,26');
    }
  });

  it('three bars with long value labels keep their proportions; a stat set may name its highlight', async () => {
    const job = chartJob([30000, 1200, 230], 'og', [{ display: '3萬餘家（全國合計）' }]);
    (job.data as StatSetCardData).stats[2] = {
      ...(job.data as StatSetCardData).stats[2]!,
      highlight: true,
    } as Stat;
    const { pixels, width, height } = await cardPixels(job);
    const bars = barLengths(pixels, width, height);
    expect(bars).toHaveLength(3);
    expect(Math.abs(bars[1]!.len - (bars[0]!.len * 1200) / 30000)).toBeLessThanOrEqual(1);
    expect(Math.abs(bars[2]!.len - (bars[0]!.len * 230) / 30000)).toBeLessThanOrEqual(1);
    expect(bars[2]!.rgb).toBe('164,22,26');
    expect(bars[0]!.rgb).not.toBe('164,22,26');
  });
});

describe('figure tiles', () => {
  it('choose an arrangement with no empty cell', () => {
    for (const shape of ['wide', 'square', 'tall'])
      for (let n = 1; n <= 4; n++) {
        const { rows, cols } = arrangement(n, shape);
        expect(rows * cols).toBe(n);
      }
    expect(arrangement(3, 'wide')).toEqual({ rows: 1, cols: 3 });
    expect(arrangement(4, 'square')).toEqual({ rows: 2, cols: 2 });
    expect(arrangement(3, 'tall')).toEqual({ rows: 3, cols: 1 });
  });

  it('draw every figure of a card at one size', async () => {
    const job = jobFor('statset', 'og', 0);
    const d = job.data as StatSetCardData;
    // 60% and 0.3% and 17.5% were drawn at three sizes before.
    job.data = {
      ...d,
      stats: [
        { value: 60, unit: '%', label: '開源模型佔比' },
        { value: 0.3, unit: '%', label: '閉源模型佔比' },
        { value: 1234567, unit: '元', label: '平均投資額（人民幣）' },
      ],
      chart: false,
    };
    for (const format of ['og', 'square', 'story'] as const) {
      const svg = await cardSvg({ ...job, format }, { embedFont: false });
      const sizes = ['60', '0.3', '123.46'].map(
        (n) => new RegExp(`font-size="([\\d.]+)"[^>]*>${n.replace('.', '\\.')}</text>`).exec(svg)?.[1],
      );
      expect(sizes.every(Boolean), sizes.join()).toBe(true);
      expect(new Set(sizes).size).toBe(1);
    }
  });
});

describe('sizes', () => {
  it('stay each format’s own', () => {
    expect([FORMATS.wechat.width, FORMATS.wechat.height]).toEqual([900, 383]);
  });
});
