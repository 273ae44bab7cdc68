/** Text or an attribute value escaped for XML/SVG (the five characters escape-html escapes, as satori writes them). */
export const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const NAMED: Record<string, string> = { lt: '<', gt: '>', quot: '"', amp: '&', apos: "'" };

/** A numeric reference's character, or the reference as written when it names no code point. */
function fromRef(ref: string, digits: string, radix: number): string {
  const cp = Number.parseInt(digits, radix);
  return cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) && cp > 0 ? String.fromCodePoint(cp) : ref;
}

/**
 * XML text back to characters: the five escapes, and numeric character
 * references (satori writes only the five; a reference is read, not drawn as
 * its own characters). One pass, so what one reference yields is never read
 * again (`&#38;amp;` is "&amp;", not "&"); a reference to no code point stays
 * as written.
 */
export const unescapeXml = (s: string) =>
  s.includes('&')
    ? s.replace(/&(?:(lt|gt|quot|amp|apos)|#[xX]([0-9a-fA-F]{1,8})|#(\d{1,9}));/g, (ref, named, hex, dec) =>
        named ? NAMED[named]! : hex ? fromRef(ref, hex, 16) : fromRef(ref, dec, 10),
      )
    : s;
