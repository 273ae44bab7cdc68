import { describe, expect, it } from 'vitest';
import { chineseDate } from '../../src/edition/dates.ts';
import { cjkSpaces } from '../../src/email/compile.ts';
import { bars, change, figure, formatNumber, textBar } from '../../src/email/format.ts';
import { convertHtml, convertText } from '../../src/email/locale.ts';

describe('email formatting', () => {
  it('writes the masthead date in Chinese with the weekday', () => {
    expect(chineseDate('2025-12-10')).toBe('2025年12月10日 星期三');
    expect(chineseDate('2026-01-04')).toBe('2026年1月4日 星期日');
  });

  it('prints figures as the paper does and splits display around the value', () => {
    expect(formatNumber(5.15)).toBe('5.15');
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(figure({ value: 5.15, unit: '億人' })).toEqual({
      pre: '',
      num: '5.15',
      unit: '億人',
      text: '5.15億人',
    });
    expect(figure({ value: 5300, unit: '家', display: '超5300家' })).toMatchObject({
      pre: '超',
      num: '5300',
      unit: '家',
    });
    expect(figure({ value: 9, unit: '席', display: '全球前10中佔據9席' })).toMatchObject({
      pre: '全球前10中佔據',
      num: '9',
      unit: '席',
    });
  });

  it('signs changes and puts 較 before a bare comparison', () => {
    expect(change({ value: 2.66, unit: '億人', versus: '2024年12月' })).toEqual({
      dir: 'up',
      arrow: '▲',
      text: '+2.66億人',
      versus: '較2024年12月',
    });
    // A minus sign (U+2212), not a hyphen.
    expect(change({ value: -1.2, unit: '%', versus: '同比' })).toMatchObject({
      dir: 'down',
      arrow: '▼',
      text: '\u22121.2%',
      versus: '同比',
    });
    // No change is neutral; 較 is never doubled.
    expect(change({ value: 0, unit: '%', versus: '較前一年' })).toEqual({
      dir: 'flat',
      arrow: '',
      text: '0%',
      versus: '較前一年',
    });
  });

  it('keeps small values and writes large ones in 萬/億 as cards and captions do', () => {
    expect(figure({ value: 0.000123, unit: '%' }).text).toBe('0.000123%');
    expect(figure({ value: 123456789012, unit: '元' })).toMatchObject({ num: '1234.57', unit: '億元' });
    expect(figure({ value: 123456789012, unit: '元' }, { large: 'plain' }).text).toBe('123456789012元');
  });

  it('draws bars only for comparable figures', () => {
    // Shares of a whole.
    expect(bars({ stats: [{ value: 36.5, unit: '%', label: 'a' }] })).toEqual([{ pct: 37, rest: 63 }]);
    // Same unit: relative to the largest.
    expect(
      bars({
        stats: [
          { value: 30, unit: '項', label: 'a' },
          { value: 84, unit: '項', label: 'b' },
        ],
      }),
    ).toEqual([
      { pct: 36, rest: 64 },
      { pct: 100, rest: 0 },
    ]);
    // Mixed units, ranks and negatives: none.
    expect(
      bars({
        stats: [
          { value: 5, unit: '億人', label: 'a' },
          { value: 3, unit: '家', label: 'b' },
        ],
      }),
    ).toEqual([null, null]);
    expect(
      bars({
        stats: [
          { value: 15, unit: '位', label: 'a', display: '第15位' },
          { value: 3, unit: '位', label: 'b', display: '第3位' },
        ],
      }),
    ).toEqual([null, null]);
    expect(bars({ stats: [{ value: -3, unit: '%', label: 'a' }] })).toEqual([null]);
    expect(textBar(36)).toBe('████░░░░░░');
  });

  it('sets gaps next to Han characters as ideographic spaces in subjects', () => {
    expect(cjkSpaces('大公報 2025年12月10日 星期三：中國AI突飛猛進 專利量')).toBe(
      '大公報\u30002025年12月10日\u3000星期三：中國AI突飛猛進\u3000專利量',
    );
    expect(cjkSpaces('Daily AI News')).toBe('Daily AI News');
  });
});

describe('zh-Hans conversion', () => {
  it('converts prose and leaves numbers, URLs, attributes and tokens alone', () => {
    expect(convertText('數讀中國AI發展 5.15億人 https://news.example.com/數讀/發展 %%name%%')).toBe(
      '数读中国AI发展 5.15亿人 https://news.example.com/數讀/發展 %%name%%',
    );
    const html =
      '<html lang="zh-Hant-HK"><head><style>.發展{color:red}</style></head><body><a href="https://x.example/發展?a=1&amp;b=2" title="發展">數讀發展 38.58%</a><img alt="國產" src="https://x.example/國.png"><!-- 發展 --></body></html>';
    const out = convertHtml(html);
    expect(out).toContain('<html lang="zh-Hans">');
    expect(out).toContain('href="https://x.example/發展?a=1&amp;b=2"');
    expect(out).toContain('src="https://x.example/國.png"');
    expect(out).toContain('alt="国产"');
    expect(out).toContain('>数读发展 38.58%</a>');
    expect(out).toContain('.發展{color:red}');
    expect(out).toContain('<!-- 發展 -->');
  });
});
