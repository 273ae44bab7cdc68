import { createRequire } from 'node:module';
import type { Platform } from './config.ts';

// Captions per platform: each within that platform's limit, counted the way the
// platform counts (X: twitter-text weighted length — CJK 2, any URL 23, max 280).
// Link placement follows what each platform does with links:
//   x, threads, facebook, linkedin — link on its own line after the text (a card preview);
//   instagram — links are not clickable in captions: point to the bio instead;
//   weibo — topics are #話題# (closed), first; the link last.
// What gives way when a caption is too long: the dek first (clamped with …),
// then hashtags, then the headline.

const require = createRequire(import.meta.url);
const twitter = require('twitter-text') as { parseTweet(t: string): { weightedLength: number } };

export interface CaptionInput {
  headline: string;
  /** Shortenable body text. */
  body: string;
  url: string;
  tags: string[];
}

export interface Caption {
  platform: Platform;
  text: string;
  length: number;
  limit: number;
}

export const LIMITS: Record<Platform, number> = {
  x: 280,
  threads: 500,
  facebook: 63_206,
  instagram: 2_200,
  linkedin: 3_000,
  weibo: 2_000,
};

/** How long each body may be before we shorten it anyway: a caption is not an article. */
const SOFT_BODY: Record<Platform, number> = {
  x: 280,
  threads: 300,
  facebook: 400,
  instagram: 500,
  linkedin: 600,
  weibo: 300,
};

const chars = (s: string) => [...s].length;

export function captionLength(platform: Platform, text: string): number {
  if (platform === 'x') return twitter.parseTweet(text).weightedLength;
  if (platform === 'weibo') {
    // Weibo counts two ASCII characters as one.
    let ascii = 0;
    let other = 0;
    for (const c of text) c.charCodeAt(0) < 0x80 ? ascii++ : other++;
    return other + Math.ceil(ascii / 2);
  }
  return chars(text);
}

export function hashtag(tag: string, platform: Platform): string | undefined {
  const t = tag.replace(/[^\p{L}\p{N}_]/gu, '');
  if (!t || /^\p{N}+$/u.test(t)) return undefined;
  return platform === 'weibo' ? `#${t}#` : `#${t}`;
}

function withUtm(url: string, platform: Platform, campaign: string | undefined): string {
  if (!campaign) return url;
  const u = new URL(url);
  u.searchParams.set('utm_source', platform);
  u.searchParams.set('utm_medium', 'social');
  u.searchParams.set('utm_campaign', campaign);
  return u.toString();
}

function clampChars(s: string, n: number): string {
  const cs = [...s];
  if (cs.length <= n) return s;
  return `${cs
    .slice(0, Math.max(0, n - 1))
    .join('')
    .replace(/[，、；：,;:\s「『（]+$/u, '')}…`;
}

function compose(p: Platform, headline: string, body: string, url: string, tags: string[]): string {
  const parts: string[] = [];
  const tagLine = tags.join(' ');
  if (p === 'weibo') {
    const head = headline.startsWith('【') ? headline : `【${headline}】`;
    parts.push(`${tagLine ? `${tagLine} ` : ''}${head}${body}`);
    parts.push(url);
    return parts.filter(Boolean).join(' ');
  }
  parts.push(headline);
  if (body) parts.push(body);
  if (p === 'instagram') parts.push('👉 全文：連結見個人簡介');
  else parts.push(url);
  if (tagLine) parts.push(tagLine);
  return parts.join('\n\n');
}

export function caption(
  platform: Platform,
  input: CaptionInput,
  opts: { maxHashtags: number; campaign?: string },
): Caption {
  const limit = LIMITS[platform];
  const url = withUtm(input.url, platform, opts.campaign);
  const max = platform === 'x' ? Math.min(opts.maxHashtags, 3) : opts.maxHashtags;
  let tags = [...new Set(input.tags.map((t) => hashtag(t, platform)).filter((t): t is string => !!t))].slice(
    0,
    max,
  );
  let headline = input.headline;
  let body = clampChars(input.body, SOFT_BODY[platform]);
  const fits = () => captionLength(platform, compose(platform, headline, body, url, tags)) <= limit;
  // Shorten the body until it fits, then drop hashtags, then the headline.
  while (!fits() && chars(body) > 0) body = chars(body) > 20 ? clampChars(body, chars(body) - 8) : '';
  while (!fits() && tags.length) tags = tags.slice(0, -1);
  while (!fits() && chars(headline) > 4) headline = clampChars(headline, chars(headline) - 4);
  const text = compose(platform, headline, body, url, tags);
  return { platform, text, length: captionLength(platform, text), limit };
}
