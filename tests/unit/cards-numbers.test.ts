import { describe, expect, it } from 'vitest';
import { caption } from '../../src/cards/captions.ts';
import { editionItems } from '../../src/cards/items.ts';
import { figure as emailFigure } from '../../src/email/format.ts';
import { formatChange, formatFigure, formatNumber, MINUS, withComparison } from '../../src/util/numbers.ts';
import { context, edition, statSet } from '../fixtures/cards/edition.ts';

// The one number formatter (src/util/numbers.ts): the rules the issue lists,
// and that the card, the caption and the email print the same figure.

describe('formatFigure', () => {
  it('keeps the significant digits of small values', () => {
    expect(formatFigure(0.000123, '%')).toBe('0.000123%');
    expect(formatFigure(0.0456, '')).toBe('0.0456');
    expect(formatFigure(0.1 + 0.2, '')).toBe('0.3');
    expect(formatFigure(38.58, '%')).toBe('38.58%');
    expect(formatFigure(5.15, '億人')).toBe('5.15億人');
  });

  it('writes large values in 萬/億/萬億, composing with a magnitude in the unit', () => {
    expect(formatFigure(5300, '家')).toBe('5300家');
    expect(formatFigure(157600, '件')).toBe('15.76萬件');
    expect(formatFigure(123456789012, '元')).toBe('1234.57億元');
    expect(formatFigure(12000, '萬人')).toBe('1.2億人');
    expect(formatFigure(30000, '億元')).toBe('3萬億元');
    expect(formatFigure(2.9, '萬億元')).toBe('2.9萬億元');
    expect(formatFigure(9999.996, '')).toBe('1萬');
    expect(formatFigure(1.5e12, '元', { trillion: '兆' })).toBe('1.5兆元');
    expect(formatFigure(123456789012, '元', { large: 'plain' })).toBe('123456789012元');
    expect(formatFigure(123456789012, '元', { large: 'plain', grouping: true })).toBe('123,456,789,012元');
  });

  it('uses a minus sign, not a hyphen', () => {
    expect(formatFigure(-3.2, '%')).toBe(`${MINUS}3.2%`);
    expect(formatNumber(-0.000123)).toBe('\u22120.000123');
    expect(formatFigure(-3.2, '%')).not.toContain('-');
  });
});

describe('formatChange', () => {
  it('up, down and no change', () => {
    expect(formatChange({ value: 2.66, unit: '億人', versus: '2024年12月' })).toEqual({
      dir: 'up',
      arrow: '▲',
      text: '+2.66億人',
      versus: '較2024年12月',
    });
    expect(formatChange({ value: -1.2, unit: '%', versus: '前一年' })).toMatchObject({
      dir: 'down',
      arrow: '▼',
      text: '\u22121.2%',
    });
    // Zero is neutral: no arrow (so no up/down colour), no sign.
    expect(formatChange({ value: 0, unit: '%', versus: '前一年' })).toMatchObject({
      dir: 'flat',
      arrow: '',
      text: '0%',
    });
  });

  it('adds 較 once', () => {
    expect(withComparison('前一年')).toBe('較前一年');
    expect(withComparison('較前一年')).toBe('較前一年');
    expect(withComparison('同比')).toBe('同比');
    expect(formatChange({ value: 1, unit: '%', versus: '較前一年' }).versus).toBe('較前一年');
  });
});

describe('card, caption and email print the same figure', () => {
  it('0.000123% and 1234.57億元 everywhere', () => {
    const set = statSet();
    set.groups[0]!.stats = [
      { value: 0.000123, unit: '%', label: '錯誤率' },
      {
        value: 123456789012,
        unit: '元',
        label: '投資',
        change: { value: -3.5, unit: '%', versus: '較前一年' },
      },
    ];
    const ctx = context();
    const items = editionItems(edition({ stats: [set] }), {
      kinds: ['stat'],
      contentDir: ctx.paths.content,
      brandUrl: ctx.config.brand.url,
    });
    const [small, big] = items;
    // The caption as posted (issue 12: a change reads in words, 較前一年下降3.5%).
    const post = (i: typeof small) => caption('x', i!.caption, { maxHashtags: 2 }).text;
    expect(post(small)).toContain('錯誤率：0.000123%');
    expect(post(big)).toContain('投資：1234.57億元');
    expect(post(big)).toContain('較前一年下降3.5%');
    expect(post(big)).not.toContain('較較');
    expect(emailFigure({ value: 0.000123, unit: '%' }).text).toBe('0.000123%');
    expect(emailFigure({ value: 123456789012, unit: '元' }).text).toBe('1234.57億元');
  });
});
