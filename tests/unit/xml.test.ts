import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeXml, unescapeXml } from '../../src/util/xml.ts';

// One escape and one unescape for every reader of satori's SVG (the glyph-cache
// rasterizer and the overflow check read the same text back).
describe('util/xml', () => {
  it('reads back whatever it escaped (generated text, seeded)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        expect(unescapeXml(escapeXml(s))).toBe(s);
      }),
      { seed: 20261203, numRuns: 500 },
    );
  });

  it('reads numeric character references, and an escaped ampersand before one stays text', () => {
    expect(unescapeXml('&#x6578;&#35712; &#39;AI&#39;')).toBe("數讀 'AI'");
    expect(unescapeXml('&amp;#39;')).toBe('&#39;');
    expect(unescapeXml('R&amp;D &lt;b&gt;')).toBe('R&D <b>');
    expect(unescapeXml('no escapes')).toBe('no escapes');
  });
});
