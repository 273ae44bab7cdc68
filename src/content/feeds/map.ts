// FeedItem → article front matter. The id is derived from the item's identity
// (guid/id, else its link) so a re-ingest of the same feed maps to the same id
// and can be recognised as already present, whatever else changed in the item.
import { createHash } from 'node:crypto';
import { type ArticleFrontMatter, articleFrontMatterSchema, LIMITS } from '../model.ts';
import { formatInZone, parseFeedDate } from './dates.ts';
import type { FeedItem, ParsedFeed } from './parse.ts';
import { clamp, collapse, plainOf } from './text.ts';

export const DEFAULT_SECTION = '新聞';

export interface MapOptions {
  timeZone: string;
  /** Overrides the first category. */
  section?: string;
  /** Overrides the feed title. */
  source?: string;
  /** Where the feed came from (final URL): the base for relative links. */
  base?: string;
}

export interface ItemProblem {
  /** "item 3 「標題」 (guid)" — enough to find it in the feed. */
  item: string;
  field: string;
  reason: string;
}

export type Mapped =
  | { kind: 'article'; key: string; front: ArticleFrontMatter; date: string }
  | { kind: 'skipped'; key?: string; problems: ItemProblem[] };

function httpUrl(raw: string | undefined, base: string | undefined): string | undefined {
  if (!raw?.trim()) return undefined;
  try {
    const u = new URL(raw.trim(), base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The identity an item keeps across fetches. A guid that is a URI (http:, urn:,
 * tag:) is global; a bare one ("12345") is only unique within its feed, so it is
 * scoped by the feed's own id — taken from the document, not the fetch URL, so
 * the same feed read from a file or over HTTP gives the same key.
 */
export function identityOf(item: FeedItem, feed: ParsedFeed, url: string | undefined): string | undefined {
  const guid = item.guid?.trim();
  if (guid) return guid.includes(':') ? guid : `${feed.id ?? ''}#${guid}`;
  return url;
}

const slugify = (s: string) =>
  s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');

/** 10 hex digits of the identity: the part of an article id that never changes for an item. */
export const identityHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 10);

/** The hash suffix of an id made by articleId, if it has one. */
export const hashOfId = (id: string) => /-([0-9a-f]{10})$/.exec(id)?.[1];

/**
 * A readable slug (URL path, else an ASCII title) plus the identity hash. The
 * slug is cosmetic: if a site renames an item's URL the id's slug changes, so
 * "already present" is decided on the hash (see ingest.ts).
 */
export function articleId(key: string, url: string | undefined, title: string): string {
  let fromPath = '';
  if (url) {
    const last = new URL(url).pathname.split('/').filter(Boolean).at(-1) ?? '';
    try {
      fromPath = slugify(decodeURIComponent(last).replace(/\.(s?html?|php|aspx?|jsp)$/i, ''));
    } catch {
      fromPath = slugify(last);
    }
  }
  const slug = fromPath || slugify(title) || 'item';
  return `${slug}-${identityHash(key)}`;
}

const uniq = (xs: string[], max: number, each: number) =>
  [...new Set(xs.map((x) => clamp(collapse(x), each)).filter(Boolean))].slice(0, max);

const describe = (item: FeedItem, title: string) =>
  `item ${item.index}${title ? ` 「${clamp(title, 40)}」` : ''}${item.guid ? ` (${clamp(item.guid, 80)})` : ''}`;

export function mapItem(item: FeedItem, feed: ParsedFeed, opts: MapOptions): Mapped {
  const title = plainOf(item.title);
  const label = describe(item, title);
  const skip = (field: string, reason: string, key?: string): Mapped => ({
    kind: 'skipped',
    key,
    problems: [{ item: label, field, reason }],
  });

  const base = httpUrl(feed.link, opts.base) ?? opts.base;
  const url = httpUrl(item.link, base);
  if (!url)
    return skip('url', item.link ? `link "${clamp(item.link, 80)}" is not http(s)` : 'item has no link');
  const key = identityOf(item, feed, url)!;

  // No usable date → skip rather than borrow the feed's build date: that would
  // file an old story under today's edition.
  const date = item.dates.map((d) => parseFeedDate(d, opts.timeZone)).find(Boolean);
  if (!date) {
    const reason = item.dates.length ? `unreadable date "${clamp(item.dates[0]!, 60)}"` : 'item has no date';
    return skip('publishedAt', reason, key);
  }
  const publishedAt = formatInZone(date, opts.timeZone);

  const tags = uniq(item.categories, 30, 60);
  // https only: content check refuses http images (cards fetch https only).
  const image = item.images
    .map((i) => ({ ...i, src: httpUrl(i.url, url) }))
    .find((i): i is typeof i & { src: string } => Boolean(i.src?.startsWith('https:')));
  const candidate = {
    id: articleId(key, url, title),
    title,
    dek: clamp(plainOf(item.summary) || plainOf(item.content) || title, LIMITS.dek),
    section: clamp(collapse(opts.section ?? '') || tags[0] || DEFAULT_SECTION, LIMITS.short),
    tags,
    authors: uniq(item.authors, 20, LIMITS.short),
    source: clamp(collapse(opts.source ?? '') || plainOf(feed.title) || new URL(url).hostname, LIMITS.short),
    publishedAt,
    url,
    ...(image && {
      image: {
        src: image.src,
        alt: clamp(collapse(image.alt ?? '') || title || '圖片', 300),
        ...(image.credit &&
          collapse(image.credit) && { credit: clamp(collapse(image.credit), LIMITS.short) }),
      },
    }),
  };

  const checked = articleFrontMatterSchema.safeParse(candidate);
  if (!checked.success) {
    return {
      kind: 'skipped',
      key,
      problems: checked.error.issues.map((i) => ({
        item: label,
        field: i.path.join('.') || '(item)',
        reason: i.message,
      })),
    };
  }
  return { kind: 'article', key, front: checked.data, date: publishedAt.slice(0, 10) };
}
