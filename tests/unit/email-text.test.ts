// The text part's typography and the headline line-break guard.
import { describe, expect, it } from 'vitest';
import { cellWidth, keepLastPhrase, textBar, textWidth, wrapLine, wrapText } from '../../src/email/text.ts';

const WJ = '\u2060';

describe('East Asian width', () => {
  it('counts wide and fullwidth characters as two columns', () => {
    expect(textWidth('AI專利')).toBe(6);
    expect(textWidth('，：｜「」')).toBe(10);
    expect(textWidth('𨋢')).toBe(2);
    expect(textWidth('abc 123')).toBe(7);
    expect(cellWidth(0x0301)).toBe(0); // combining acute
  });
});

describe('wrapLine', () => {
  const long =
    '中國電子信息產業發展研究院副總工程師劉權認為，2025年中國人工智能領域最顯著的進步體現在開源大模型領域實現了全球引領。';

  it('wraps at 72 columns and loses no character', () => {
    const lines = wrapLine(long);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(textWidth(l)).toBeLessThanOrEqual(72);
    expect(lines.join('')).toBe(long);
  });

  it('never starts a line with closing punctuation or ends one with an opener', () => {
    const text = `${'一二三四五六七八九十'.repeat(3)}四五「六七」。${'甲乙丙丁'.repeat(10)}`;
    for (let w = 20; w <= 72; w++) {
      const lines = wrapLine(text, w);
      for (const l of lines.slice(1)) expect(l[0]).not.toMatch(/[。，、」』）]/);
      for (const l of lines) expect(l.at(-1)).not.toMatch(/[「『（]/);
    }
  });

  it('never breaks a URL or merge token, putting it on its own line when it does not fit', () => {
    const url =
      'https://news.example.com/2025/12/10/china-ai-patents-lead?utm_source=newsletter&utm_medium=email';
    const lines = wrapLine(`閱讀全文：${url} 之後的文字`, 40);
    expect(lines).toContain(url);
    expect(
      wrapLine(`取消訂閱：%%unsubscribe_url%%${'字'.repeat(40)}`, 30).some((l) =>
        l.includes('%%unsubscribe_url%%'),
      ),
    ).toBe(true);
  });

  it('keeps Latin words whole, and quoted or listed lines as such', () => {
    const en = 'The quick brown fox jumps over the lazy dog and keeps running through the whole field';
    for (const l of wrapLine(en, 30))
      expect(en.split(' ')).toEqual(expect.arrayContaining(l.trim().split(' ')));
    const quoted = wrapLine(`> 「${'國產開源模型'.repeat(8)}」`, 40);
    for (const l of quoted) expect(l.startsWith('> ')).toBe(true);
    const item = wrapLine(`12. ${'標題'.repeat(30)}`, 40);
    for (const l of item.slice(1)) expect(l.startsWith('    ')).toBe(true);
  });

  it('leaves no lone Chinese character on the last line', () => {
    const lines = wrapLine(`${'數據治理平台'.repeat(6)}化。`, 72);
    expect(lines.map((l) => [...l.replace(/\p{P}/gu, '')].length).at(-1)).toBeGreaterThanOrEqual(2);
    expect(lines.join('')).toBe(`${'數據治理平台'.repeat(6)}化。`);
  });

  it('wraps every line of a text', () => {
    const out = wrapText(`短\n${'長'.repeat(50)}\n`);
    expect(out.split('\n').map(textWidth)).toEqual([2, 72, 28, 0]);
  });
});

describe('textBar', () => {
  it('shows at least one cell for any non-zero share, none for zero', () => {
    expect(textBar(0.3)).toBe(`█${'░'.repeat(9)}`);
    expect(textBar(1)).toBe(`█${'░'.repeat(9)}`);
    expect(textBar(0)).toBe('░'.repeat(10));
    expect(textBar(60)).toBe('██████░░░░');
    expect(textBar(100)).toBe('█'.repeat(10));
  });
});

describe('keepLastPhrase', () => {
  it('glues a short last phrase so the headline breaks at the phrase', () => {
    expect(keepLastPhrase('中國AI突飛猛進 專利量全球居首')).toBe(
      `中國AI突飛猛進 ${[...'專利量全球居首'].join(WJ)}`,
    );
  });

  it('glues at least two characters, not counting closing punctuation', () => {
    const t = keepLastPhrase('中國從AI「技術追趕者」變為「規則定義者」');
    expect(t.endsWith(`義${WJ}者${WJ}」`)).toBe(true);
    expect(t.replaceAll(WJ, '')).toBe('中國從AI「技術追趕者」變為「規則定義者」');
  });

  it('uses a no-break space before the last word of a Latin headline, and leaves symbols alone', () => {
    expect(keepLastPhrase('China leads in AI patents')).toBe('China leads in AI\u00a0patents');
    expect(keepLastPhrase('標題 %%name%%')).toBe('標題 %%name%%');
  });
});
