import { type QuoteStyle, wrapQuote } from '../util/quotes.ts';
import { chars } from './captions/common.ts';
import { PLATFORM_RULES } from './captions/registry.ts';
import { flattenBrackets, oneLine, renestQuotes, shorten } from './captions/text.ts';
import type { CaptionParts } from './captions/types.ts';
import type { CardKind, Platform } from './config.ts';
import { graphemes } from './fonts.ts';

// Captions an editor can post as they are, one per platform. The platform rules
// (limit and how it is counted, line breaks, link, hashtags) are in
// captions/<platform>.ts; what every caption shares is here and in captions/text.ts:
//   - brackets never nest in their own kind; a quote's marks nest 「『』」;
//   - a quote's speaker and role share the quote's line;
//   - what gives way when a caption is too long: the dek, then figures (from
//     the last), then hashtags, then the headline, and for a quote card the
//     story's headline before the quote — each cut at a phrase boundary with
//     an ellipsis, never inside a word, figure, URL or grapheme cluster.

export interface CaptionInput {
  kind?: CardKind;
  /** 專家解讀: printed 【專家解讀】 before the headline (Weibo: inside its 【】). */
  kicker?: string;
  headline: string;
  /** Shortenable paragraph (the dek). */
  body?: string;
  /** Figures, one per line where the platform keeps line breaks. */
  lines?: string[];
  quote?: { text: string; by: string; role?: string; style?: QuoteStyle };
  /** The item's own page (article, stat set) or the edition's archive page. */
  url: string;
  /** Topics, most specific first; each platform takes as many as it uses. */
  tags: string[];
  /** The edition's quotation marks (「」 or “”) and phrase model (BudouX hant/hans). */
  style?: QuoteStyle;
}

export interface Caption {
  platform: Platform;
  text: string;
  length: number;
  limit: number;
}

export const LIMITS = Object.fromEntries(
  Object.values(PLATFORM_RULES).map((r) => [r.platform, r.limit]),
) as Record<Platform, number>;

export const captionLength = (platform: Platform, text: string): number =>
  PLATFORM_RULES[platform].length(text);

export const hashtag = (tag: string, platform: Platform): string | undefined =>
  PLATFORM_RULES[platform].hashtag(tag);

function withUtm(url: string, platform: Platform, campaign: string | undefined): string {
  if (!campaign) return url;
  const u = new URL(url);
  u.searchParams.set('utm_source', platform);
  u.searchParams.set('utm_medium', 'social');
  u.searchParams.set('utm_campaign', campaign);
  return u.toString();
}

const quoteLine = (q: NonNullable<CaptionInput['quote']>, text: string) =>
  `${wrapQuote(text, q.style)}——${q.by}${q.role ? `，${q.role}` : ''}`;

/** Tags in the platform's form, repeats (after cleaning) left out, as many as the platform uses. */
function platformTags(platform: Platform, tags: string[], max: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of tags) {
    const h = hashtag(t, platform);
    const key = h?.replace(/#/g, '').toLowerCase();
    if (!h || !key || seen.has(key)) continue;
    seen.add(key);
    out.push(h);
  }
  return out.slice(0, Math.min(max, PLATFORM_RULES[platform].maxTags));
}

export function caption(
  platform: Platform,
  input: CaptionInput,
  opts: { maxHashtags: number; campaign?: string },
): Caption {
  const rules = PLATFORM_RULES[platform];
  const style = input.style ?? input.quote?.style;
  const clean = (s: string | undefined) => renestQuotes(flattenBrackets(oneLine(s ?? '')), style);
  const simplified = style === 'hans';
  const q = input.quote && {
    ...input.quote,
    by: oneLine(input.quote.by),
    role: oneLine(input.quote.role ?? ''),
  };
  const parts: CaptionParts = {
    kind: input.kind ?? 'article',
    kicker: input.kicker ? clean(input.kicker) : undefined,
    title: clean(input.headline),
    body: shorten(clean(input.body), (s) => chars(s) <= rules.softBody, { simplified }),
    lines: (input.lines ?? []).map(clean).filter(Boolean),
    url: withUtm(input.url, platform, opts.campaign),
    tags: platformTags(platform, input.tags, opts.maxHashtags),
  };
  // wrapQuote re-marks the quote's own quotes; brackets are flattened here.
  let quoteText = q ? flattenBrackets(oneLine(q.text)) : '';
  const build = () => ({ ...parts, quote: q ? quoteLine(q, quoteText) : undefined });
  const fits = (over: Partial<CaptionParts> = {}) =>
    rules.length(rules.compose({ ...build(), ...over })) <= rules.limit;
  const cut = (s: string, over: (s: string) => Partial<CaptionParts>) =>
    shorten(s, (t) => fits(over(t)), { simplified });

  // A dek (or a quote card's story headline) cut down to a few words says nothing: drop it.
  const stub = (was: string, s: string) =>
    s !== was && chars(s.replace(/…+[\p{Pe}\p{Pf}]*$/u, '')) < 10 ? '' : s;
  const steps: (() => void)[] = [
    () => {
      parts.body = stub(
        parts.body,
        cut(parts.body, (body) => ({ body })),
      );
    },
    () => {
      while (!fits() && parts.lines.length > 1) parts.lines.pop();
      if (!fits() && parts.lines.length) {
        const first = cut(parts.lines[0]!, (l) => ({ lines: [l] }));
        parts.lines = first ? [first] : [];
      }
    },
    // A quote card's story headline gives way (entirely, if need be: the link
    // preview shows it) before its hashtags and its quote.
    ...(q
      ? [
          () => {
            parts.title = stub(
              parts.title,
              cut(parts.title, (title) => ({ title })),
            );
            if (!parts.title) parts.kicker = undefined;
          },
        ]
      : []),
    () => {
      while (!fits() && parts.tags.length) parts.tags = parts.tags.slice(0, -1);
    },
    () => {
      if (parts.kicker && !fits()) parts.kicker = undefined;
      if (!fits() && parts.title) parts.title = cut(parts.title, (title) => ({ title })) || parts.title;
    },
    () => {
      if (!q) return;
      const ok = (t: string) =>
        rules.length(rules.compose({ ...parts, quote: quoteLine(q, t) })) <= rules.limit;
      quoteText = shorten(quoteText, ok, { simplified }) || quoteText;
    },
  ];
  for (const step of steps) if (!fits()) step();
  // A single word longer than the whole limit (no boundary fits): cut by grapheme as a last resort.
  const last = (s: string) => `${graphemes(s.replace(/…$/u, '')).slice(0, -1).join('')}…`;
  while (!fits() && q && chars(quoteText) > 2) quoteText = last(quoteText);
  while (!fits() && chars(parts.title) > 2) parts.title = last(parts.title);
  const text = rules.compose(build());
  return { platform, text, length: rules.length(text), limit: rules.limit };
}
