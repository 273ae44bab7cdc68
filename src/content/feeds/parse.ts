// feedsmith's output mirrors each format's own structure; this file flattens
// RSS 2.0, Atom 1.0, JSON Feed 1.1 (and RSS 1.0/RDF, which costs nothing) into
// one neutral FeedItem so map.ts has a single shape to turn into articles.
import { type AnyFeed, type AtomFeed, type JsonFeed, parseFeed, type RdfFeed, type RssFeed } from 'feedsmith';
import { BroadsheetError } from '../../errors/index.ts';
import type { FeedText } from './text.ts';

export type FeedFormat = 'rss' | 'atom' | 'json' | 'rdf';

export interface FeedImage {
  url: string;
  alt?: string;
  credit?: string;
}

export interface FeedItem {
  /** 1-based position in the feed, for messages. */
  index: number;
  /** guid / id as the feed gives it. */
  guid?: string;
  link?: string;
  title?: FeedText;
  summary?: FeedText;
  content?: FeedText;
  /** Raw date strings, most authoritative first. */
  dates: string[];
  authors: string[];
  categories: string[];
  images: FeedImage[];
}

export interface ParsedFeed {
  format: FeedFormat;
  title?: FeedText;
  /** The feed's own identity (channel link, Atom id, JSON home page): scopes non-global guids. */
  id?: string;
  /** Base for relative links in items. */
  link?: string;
  items: FeedItem[];
}

type Media = RssFeed.Item<string>['media'];

const nonEmpty = <T>(xs: (T | undefined | null | '')[]): T[] => xs.filter((x): x is T => Boolean(x));
/** Feeds leave any field out; an image without a URL is no image. */
const images = (xs: { url?: string; alt?: string; credit?: string }[]): FeedImage[] =>
  xs.flatMap((x) => (x.url ? [{ url: x.url, alt: x.alt, credit: x.credit }] : []));

// RSS titles are nominally text, but many feeds put escaped markup in them; treat
// a title as HTML only when it visibly carries a tag, so "恒指 < 20000" stays literal.
const TAG = /<\/?[a-z][a-z0-9]*(?:\s[^<>]*)?\/?>/i;
const rssText = (v: string | undefined): FeedText | undefined =>
  v ? { value: v, html: TAG.test(v) } : undefined;
const htmlText = (v: string | undefined): FeedText | undefined => (v ? { value: v, html: true } : undefined);
const atomText = (t: AtomFeed.Text | AtomFeed.Content | undefined): FeedText | undefined =>
  t?.value ? { value: t.value, html: t.type === 'html' || t.type === 'xhtml' } : undefined;

const isImage = (type?: string, medium?: string, url?: string) =>
  medium === 'image' ||
  Boolean(type?.startsWith('image/')) ||
  (!type && !medium && /\.(jpe?g|png|gif|webp|avif)(\?|$)/i.test(url ?? ''));

function mediaImages(media: Media): FeedImage[] {
  if (!media) return [];
  const contents = [...(media.contents ?? []), ...(media.groups ?? []).flatMap((g) => g.contents ?? [])];
  const fromContent = contents
    .filter((c) => c.url && isImage(c.type, c.medium, c.url))
    .map((c) => ({
      url: c.url,
      alt: c.description?.value ?? c.title?.value ?? media.description?.value,
      credit: c.credits?.[0]?.value ?? media.credits?.[0]?.value,
    }));
  const thumbs = (media.thumbnails ?? []).map((t) => ({ url: t.url, credit: media.credits?.[0]?.value }));
  return images([...fromContent, ...thumbs]);
}

function fromRss(feed: RssFeed.Feed<string>): ParsedFeed {
  const items = (feed.items ?? []).map(
    (it, i): FeedItem => ({
      index: i + 1,
      guid: it.guid?.value,
      // A guid is only a usable link when it is an absolute http(s) URL: isPermaLink
      // defaults to true in the spec, yet most feeds leave it off on opaque ids.
      link:
        it.link ??
        (it.guid?.isPermaLink !== false && /^https?:\/\//i.test(it.guid?.value ?? '')
          ? it.guid?.value
          : undefined),
      title: rssText(it.title),
      summary: htmlText(it.description),
      content: htmlText(it.content?.encoded),
      dates: nonEmpty([it.pubDate, ...(it.dc?.dates ?? []), it.atom?.updated]),
      // A bare e-mail address is not a byline; "mail (Name)" gives its name.
      authors: nonEmpty([...(it.authors ?? []).map((a) => a.name), ...(it.dc?.creators ?? [])]),
      categories: nonEmpty([...(it.categories ?? []).map((c) => c.name), ...(it.dc?.subjects ?? [])]),
      images: [
        ...images((it.enclosures ?? []).filter((e) => isImage(e.type, undefined, e.url))),
        ...mediaImages(it.media),
      ],
    }),
  );
  return { format: 'rss', title: rssText(feed.title), id: feed.link, link: feed.link, items };
}

function fromRdf(feed: RdfFeed.Feed<string>): ParsedFeed {
  const items = (feed.items ?? []).map(
    (it, i): FeedItem => ({
      index: i + 1,
      guid: it.rdf?.about,
      link: it.link,
      title: rssText(it.title),
      summary: htmlText(it.description),
      content: htmlText(it.content?.encoded),
      dates: nonEmpty([...(it.dc?.dates ?? [])]),
      authors: nonEmpty([...(it.dc?.creators ?? [])]),
      categories: nonEmpty([...(it.dc?.subjects ?? [])]),
      images: mediaImages(it.media),
    }),
  );
  return { format: 'rdf', title: rssText(feed.title), id: feed.link, link: feed.link, items };
}

const alternate = (links: AtomFeed.Link<string>[] | undefined) =>
  links?.find((l) => !l.rel || l.rel === 'alternate')?.href;

function fromAtom(feed: AtomFeed.Feed<string>): ParsedFeed {
  const items = (feed.entries ?? []).map(
    (e, i): FeedItem => ({
      index: i + 1,
      guid: e.id,
      link: alternate(e.links),
      title: atomText(e.title),
      summary: atomText(e.summary),
      content: atomText(e.content),
      dates: nonEmpty([e.published, e.updated, ...(e.dc?.dates ?? [])]),
      authors: nonEmpty([...(e.authors ?? []).map((a) => a.name), ...(e.dc?.creators ?? [])]),
      categories: nonEmpty((e.categories ?? []).map((c) => c.label ?? c.term)),
      images: [
        ...images(
          (e.links ?? [])
            .filter((l) => l.rel === 'enclosure' && isImage(l.type, undefined, l.href))
            .map((l) => ({ url: l.href, alt: l.title })),
        ),
        ...mediaImages(e.media),
      ],
    }),
  );
  return {
    format: 'atom',
    title: atomText(feed.title),
    id: feed.id ?? alternate(feed.links),
    link: alternate(feed.links),
    items,
  };
}

function fromJson(feed: JsonFeed.Feed<string>): ParsedFeed {
  const items = (feed.items ?? []).map(
    (it, i): FeedItem => ({
      index: i + 1,
      guid: it.id,
      link: it.url ?? it.external_url,
      // JSON Feed titles are plain text by its spec.
      title: it.title ? { value: it.title, html: false } : undefined,
      summary: it.summary ? { value: it.summary, html: false } : undefined,
      content: it.content_html
        ? htmlText(it.content_html)
        : it.content_text
          ? { value: it.content_text, html: false }
          : undefined,
      dates: nonEmpty([it.date_published, it.date_modified]),
      authors: nonEmpty((it.authors ?? feed.authors ?? []).map((a) => a.name)),
      categories: nonEmpty(it.tags ?? []),
      images: [
        ...images([{ url: it.image }, { url: it.banner_image }]),
        ...images(
          (it.attachments ?? [])
            .filter((a) => a.mime_type?.startsWith('image/'))
            .map((a) => ({ url: a.url, alt: a.title })),
        ),
      ],
    }),
  );
  return {
    format: 'json',
    title: feed.title ? { value: feed.title, html: false } : undefined,
    id: feed.home_page_url ?? feed.feed_url,
    link: feed.home_page_url,
    items,
  };
}

/** Parse decoded feed text; anything that is not a feed is FEED_INVALID naming `source`. */
export function parseFeedText(text: string, source: string): ParsedFeed {
  let parsed: AnyFeed<string>;
  try {
    parsed = parseFeed<string>(text);
  } catch (err) {
    // feedsmith says "Invalid feed format"; the XML parser's reason sits in its cause.
    const inner = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    const detail = `${err instanceof Error ? err.message : String(err)}${inner}`;
    throw new BroadsheetError('FEED_INVALID', { source, detail }, { cause: err });
  }
  switch (parsed.format) {
    case 'rss':
      return fromRss(parsed.feed);
    case 'atom':
      return fromAtom(parsed.feed);
    case 'json':
      return fromJson(parsed.feed);
    case 'rdf':
      return fromRdf(parsed.feed);
  }
}
