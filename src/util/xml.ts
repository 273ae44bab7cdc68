/** Text or an attribute value escaped for XML/SVG (the five characters escape-html escapes, as satori writes them). */
export const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * XML text back to characters: the five escapes, and numeric character
 * references (satori writes only the five; a reference is read, not drawn as
 * its own characters).
 */
export const unescapeXml = (s: string) =>
  s.includes('&')
    ? s
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
        .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
        .replace(/&amp;/g, '&')
    : s;
