/** Text or an attribute value escaped for XML/SVG (the five characters escape-html escapes, as satori writes them). */
export const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
