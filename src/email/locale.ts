// Simplified variant: Hong Kong Traditional → mainland Simplified with
// opencc-js (characters, Hong Kong variants), plus phrase conversion for the
// words mainland readers say differently (史丹福 → 斯坦福, 伺服器 → 服务器).
// OpenCC ships phrase tables for Taiwan only; its TW table turns this paper's
// 每日簡報 into 每日演示文稿, so the phrases are a Hong Kong list of our own,
// applied with OpenCC's own longest-match converter. Quotation marks become
// mainland “”‘’. Only human text is converted: URLs and merge tokens stay
// byte-for-byte, and digits are never touched by OpenCC's dictionaries.
import * as OpenCC from 'opencc-js';
import { nestQuotes } from '../util/quotes.ts';

/** Hong Kong words and their mainland equivalents (matched on the Traditional text, longest first). */
export const HK_PHRASES: [string, string][] = [
  ['史丹福', '斯坦福'],
  ['早晨', '早上'],
  ['質素', '質量'],
  ['的士', '出租車'],
  ['資訊科技', '信息技術'],
  ['資訊', '信息'],
  ['伺服器', '服務器'],
  ['程式', '程序'],
  ['晶片', '芯片'],
  ['短訊', '短信'],
  ['電郵', '電子郵件'],
  ['手提電話', '手機'],
  ['私隱', '隱私'],
  ['貨櫃', '集裝箱'],
  ['影片', '視頻'],
  ['科網', '互聯網'],
  ['網誌', '博客'],
  ['硬碟', '硬盤'],
  ['滑鼠', '鼠標'],
  ['列印', '打印'],
  ['雪櫃', '冰箱'],
  ['屋邨', '住宅小區'],
  ['巴士站', '公交車站'],
];

let converter: ((s: string) => string) | undefined;
function hk2cn(s: string): string {
  if (!converter) {
    const hkWords = OpenCC.CustomConverter(HK_PHRASES);
    const toCn = OpenCC.Converter({ from: 'hk', to: 'cn' });
    converter = (x) => toCn(hkWords(x));
  }
  return converter(s);
}

const URLISH = /(https?:\/\/[^\s<>"'）」]+|mailto:[^\s<>"']+|%%[a-z_]+%%)/g;

/** Convert prose (and its quotation marks), leaving URLs and merge tokens alone. */
export function convertText(s: string): string {
  return s
    .split(URLISH)
    .map((seg, i) =>
      i % 2 === 1 ? seg : /[「『」』]/.test(seg) ? nestQuotes(hk2cn(seg), 'hans', 0) : hk2cn(seg),
    )
    .join('');
}

const SKIP_KEYS = new Set(['url', 'src', 'href', 'publicUrl', 'id', 'archiveUrl', 'statsUrl']);

/** Convert every string of a view object, except URLs and ids. */
export function convertDeep<T>(v: T, key = ''): T {
  if (typeof v === 'string') return (SKIP_KEYS.has(key) ? v : convertText(v)) as T;
  if (Array.isArray(v)) return v.map((x) => convertDeep(x)) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = convertDeep(x, k);
    return out as T;
  }
  return v;
}

// Tags, comments (incl. Outlook conditionals) and raw-text elements are copied as is.
const NON_TEXT = /(<!--[\s\S]*?-->|<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>|<[^>]*>)/gi;
const ALT = /(\salt=")([^"]*)(")/g;

/**
 * Convert the text nodes (and alt text) of compiled HTML; set lang to zh-Hans.
 * Only for a digest made without variants (renderDigest compiles the zh-Hans
 * variant from converted data, with its own catalog, fonts and links).
 */
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
