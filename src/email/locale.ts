// Simplified edition: Hong Kong Traditional → mainland Simplified with
// opencc-js. Only human text is converted: HTML tags and their attributes
// (href, src, style), comments, <style> blocks and anything that looks like a
// URL stay byte-for-byte the same, so links keep working. Digits are never
// touched by OpenCC's dictionaries.
import * as OpenCC from 'opencc-js/t2cn';

let converter: ((s: string) => string) | undefined;
function hk2cn(s: string): string {
  const convert = converter ?? OpenCC.Converter({ from: 'hk', to: 'cn' });
  converter = convert;
  return convert(s);
}

const URLISH = /(https?:\/\/[^\s<>"'）」]+|mailto:[^\s<>"']+|%%[a-z_]+%%)/g;

/** Convert prose, leaving URLs and merge tokens alone. */
export function convertText(s: string): string {
  return s
    .split(URLISH)
    .map((seg, i) => (i % 2 === 1 ? seg : hk2cn(seg)))
    .join('');
}

// Tags, comments (incl. Outlook conditionals) and raw-text elements are copied as is.
const NON_TEXT = /(<!--[\s\S]*?-->|<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>|<[^>]*>)/gi;
const ALT = /(\salt=")([^"]*)(")/g;

/** Convert the text nodes (and alt text) of an HTML document; set lang to zh-Hans. */
export function convertHtml(html: string): string {
  return html
    .split(NON_TEXT)
    .map((seg, i) => {
      if (i % 2 === 0) return convertText(seg);
      if (seg.startsWith('<!--') || /^<(style|script)/i.test(seg)) return seg;
      return seg
        .replace(/(\slang=")zh-Hant(?:-HK)?(")/g, '$1zh-Hans$2')
        .replace(ALT, (_m, a: string, v: string, b: string) => a + convertText(v) + b);
    })
    .join('');
}

export function toSimplified<T extends { subject: string; html: string; text: string }>(d: T): T {
  return { ...d, subject: convertText(d.subject), html: convertHtml(d.html), text: convertText(d.text) };
}
