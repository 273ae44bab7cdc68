// Small pure derivations of article and config fields for the digest view:
// absolute image URLs, UTM links, reading time, short alt text, the sender's
// display name. Kept apart from view.ts, which decides what the digest shows.
import type { Config } from '../config/schema.ts';

/** The display name of `Name <address>` (quotes off), or undefined. */
export function senderName(from: string | undefined): string | undefined {
  const m = /^\s*"?([^"<]*?)"?\s*<[^<>]+>\s*$/.exec(from ?? '');
  return m?.[1]?.trim() || undefined;
}

/** Relative image paths (images/x.jpg) are served under publicUrl; email needs absolute URLs. */
export function absoluteUrl(src: string, base: string): string {
  try {
    return new URL(src, base).href;
  } catch {
    return src;
  }
}

/** utm_source/medium/campaign on an article link; links that already carry utm_source are left alone. */
export function withUtm(url: string, utm: Config['email']['utm'], campaign: string): string {
  if (!utm.enabled) return url;
  try {
    const u = new URL(url);
    if (u.searchParams.has('utm_source')) return url;
    u.searchParams.set('utm_source', utm.source);
    u.searchParams.set('utm_medium', utm.medium);
    u.searchParams.set('utm_campaign', utm.campaign ?? campaign);
    return u.href;
  } catch {
    return url;
  }
}

const HAN = /\p{Script=Han}/gu;
/** Minutes to read a Markdown body: ~450 CJK characters or ~230 Latin words a minute. */
export function readingMinutes(body: string): number {
  const han = body.match(HAN)?.length ?? 0;
  const words = body.replace(HAN, ' ').match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
  return Math.max(1, Math.round(han / 450 + words / 230));
}

/**
 * Alt text a reader hears or sees with images off: the caption's first clause,
 * at most ~24 characters (the full caption is for the archive, not a link's
 * alt); the headline when the caption is empty.
 */
export function shortAlt(alt: string, title: string): string {
  const first = (alt.trim() || title).split(/[。！？!?；;]|，(?=圖為)/u)[0]!.trim();
  const cps = [...first];
  return cps.length <= 24 ? first : `${cps.slice(0, 23).join('')}…`;
}
