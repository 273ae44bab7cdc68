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

  it('reads generated text of escapes and numeric references in one pass (seeded)', () => {
    // Each piece: literal text (no "&"), a named escape, or a decimal/hex reference to any code point.
    const piece = fc.oneof(
      fc
        .string({ unit: 'grapheme', maxLength: 6 })
        .filter((t) => !t.includes('&'))
        .map((t) => [t, t] as const),
      fc.constantFrom(['&amp;', '&'], ['&lt;', '<'], ['&gt;', '>'], ['&quot;', '"'], ['&#39;', "'"]),
      fc
        .integer({ min: 1, max: 0x10ffff })
        .filter((cp) => cp < 0xd800 || cp > 0xdfff)
        .chain((cp) =>
          fc.constantFrom(
            [`&#${cp};`, String.fromCodePoint(cp)] as const,
            [`&#x${cp.toString(16)};`, String.fromCodePoint(cp)] as const,
          ),
        ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (ps) => {
        expect(unescapeXml(ps.map((p) => p[0]).join(''))).toBe(ps.map((p) => p[1]).join(''));
      }),
      { seed: 20261204, numRuns: 500 },
    );
  });

  it('never reads what a reference yielded again, and leaves a reference to no code point as written', () => {
    expect(unescapeXml('&#38;amp;')).toBe('&amp;');
    expect(unescapeXml('&#x26;lt;')).toBe('&lt;');
    expect(unescapeXml('&#99999999; &#xD800; &#0;')).toBe('&#99999999; &#xD800; &#0;');
  });
});
