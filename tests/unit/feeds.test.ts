import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { formatInZone, parseFeedDate } from '../../src/content/feeds/dates.ts';
import { decodeFeed } from '../../src/content/feeds/decode.ts';
import { articleId, mapItem } from '../../src/content/feeds/map.ts';
import type { FeedItem, ParsedFeed } from '../../src/content/feeds/parse.ts';
import { parseFeedText } from '../../src/content/feeds/parse.ts';
import { clamp, htmlToPlain } from '../../src/content/feeds/text.ts';
import { articleFrontMatterSchema } from '../../src/content/model.ts';

const HK = 'Asia/Hong_Kong';
const HKSCS = '港人講啲嘢：𨋢𡃁嘅故事';

describe('decodeFeed', () => {
  const xml = (decl: string) =>
    `<?xml version="1.0" encoding="${decl}"?><rss version="2.0"><channel><title>${HKSCS}</title></channel></rss>`;

  it('decodes Big5-HKSCS bytes named in the XML declaration, HKSCS characters included', () => {
    const bytes = iconv.encode(xml('Big5-HKSCS'), 'big5hkscs');
    // The trap this module exists for: the WHATWG big5 decoder loses 啲 and friends.
    expect(new TextDecoder('big5').decode(bytes)).not.toContain('啲');
    const { text, encoding } = decodeFeed(bytes, 'test');
    expect(encoding).toBe('big5hkscs');
    expect(text).toContain(HKSCS);
    expect(text).not.toMatch(/[\uE000-\uF8FF]/u);
  });

  it('treats a plain "big5" label as Big5-HKSCS too', () => {
    expect(decodeFeed(iconv.encode(xml('big5'), 'big5hkscs'), 'test').text).toContain(HKSCS);
  });

  it('lets the HTTP charset win over the declaration, and a BOM win over both', () => {
    const bytes = iconv.encode(xml('UTF-8'), 'big5hkscs');
    expect(decodeFeed(bytes, 'test', 'application/rss+xml; charset="Big5"').text).toContain(HKSCS);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml('big5'))]);
    expect(decodeFeed(bom, 'test', 'text/xml; charset=big5').text).toContain(HKSCS);
  });

  it('defaults to UTF-8 and refuses an unknown encoding with FEED_INVALID', () => {
    expect(decodeFeed(Buffer.from('{"a":"啲"}'), 'x').text).toBe('{"a":"啲"}');
    expect(() => decodeFeed(Buffer.from(xml('x-klingon')), 'k.xml')).toThrow(
      expect.objectContaining({ code: 'FEED_INVALID' }),
    );
  });
});

describe('feed dates', () => {
  const iso = (raw: string) => {
    const d = parseFeedDate(raw, HK);
    return d && formatInZone(d, HK);
  };

  it('reads RFC 822 and RFC 3339 dates and writes them with the newsroom offset', () => {
    expect(iso('Wed, 10 Dec 2025 07:30:00 +0800')).toBe('2025-12-10T07:30:00+08:00');
    expect(iso('Tue, 09 Dec 2025 23:15:00 GMT')).toBe('2025-12-10T07:15:00+08:00');
    expect(iso('10 Dec 2025 07:30 HKT')).toBe('2025-12-10T07:30:00+08:00');
    expect(iso('2025-12-09T23:30:00Z')).toBe('2025-12-10T07:30:00+08:00');
    expect(iso('2025-12-10T07:30:00.123+08:00')).toBe('2025-12-10T07:30:00+08:00');
  });

  it('reads a zone-less date in the configured zone, not the machine’s', () => {
    expect(iso('2025-12-10 07:30:00')).toBe('2025-12-10T07:30:00+08:00');
    expect(iso('Wed, 10 Dec 2025 07:30:00')).toBe('2025-12-10T07:30:00+08:00');
    const ny = parseFeedDate('2025-07-01T12:00:00', 'America/New_York')!;
    expect(formatInZone(ny, 'America/New_York')).toBe('2025-07-01T12:00:00-04:00');
  });

  it('refuses garbage, impossible dates and unknown zone names instead of guessing', () => {
    for (const bad of ['garbage 2025', '2025-02-30T10:00:00Z', 'Wed, 10 Dec 2025 07:30:00 XYZ', '', '昨日']) {
      expect(parseFeedDate(bad, HK), bad).toBeUndefined();
    }
  });
});

describe('text', () => {
  it('drops scripts and styles, decodes entities, keeps template syntax literal', () => {
    const html =
      '<p>港聞 &amp; <b>𨋢</b> &quot;q&quot; {{ x }} {% raw %}</p><script>alert(1)</script><style>p{}</style>\n\n<p>啲 😀</p>';
    expect(htmlToPlain(html)).toBe('港聞 & 𨋢 "q" {{ x }} {% raw %} 啲 😀');
  });

  it('clamps by UTF-16 length without splitting a surrogate pair', () => {
    const s = '𨋢'.repeat(10);
    const c = clamp(s, 6);
    expect(c.length).toBeLessThanOrEqual(6);
    expect(c).toBe('𨋢𨋢…');
    expect(clamp('短', 6)).toBe('短');
  });
});

describe('mapItem', () => {
  const feed: ParsedFeed = {
    format: 'rss',
    id: 'https://news.example.com/',
    link: 'https://news.example.com/',
    items: [],
  };
  const item = (over: Partial<FeedItem> = {}): FeedItem => ({
    index: 1,
    guid: '42',
    link: '/2025/12/10/story.html',
    title: { value: '港聞 <b>標題</b>', html: true },
    summary: { value: `<p>${'長'.repeat(700)}</p>`, html: true },
    dates: ['Wed, 10 Dec 2025 07:30:00 +0800'],
    authors: ['記者甲', '記者甲', ' '],
    categories: ['港聞', '社會'],
    images: [{ url: 'javascript:alert(1)' }, { url: '/img/a.jpg' }],
    ...over,
  });

  it('maps to valid front matter with a stable id, bounded dek and an http(s) image', () => {
    const m = mapItem(item(), feed, { timeZone: HK });
    expect(m.kind).toBe('article');
    if (m.kind !== 'article') return;
    expect(articleFrontMatterSchema.parse(m.front)).toBeTruthy();
    expect(m.front).toMatchObject({
      title: '港聞 標題',
      section: '港聞',
      tags: ['港聞', '社會'],
      authors: ['記者甲'],
      url: 'https://news.example.com/2025/12/10/story.html',
      publishedAt: '2025-12-10T07:30:00+08:00',
      image: { src: 'https://news.example.com/img/a.jpg', alt: '港聞 標題' },
    });
    expect(m.front.dek.length).toBeLessThanOrEqual(600);
    expect(m.front.id).toMatch(/^story-[0-9a-f]{10}$/);
    expect(mapItem(item(), feed, { timeZone: HK })).toEqual(m);
    expect(m.date).toBe('2025-12-10');
  });

  it('keeps only an https image: an http one would fail content check', () => {
    const http = mapItem(item({ images: [{ url: 'http://img.example.com/a.jpg' }] }), feed, { timeZone: HK });
    expect(http.kind === 'article' && http.front.image).toBeUndefined();
    const both = mapItem(
      item({ images: [{ url: 'http://img.example.com/a.jpg' }, { url: 'https://img.example.com/b.jpg' }] }),
      feed,
      { timeZone: HK },
    );
    expect(both.kind === 'article' && both.front.image?.src).toBe('https://img.example.com/b.jpg');
  });

  it('honours --section and --source, and reports a schema failure with its field', () => {
    const m = mapItem(item(), feed, { timeZone: HK, section: '要聞', source: '大公報' });
    expect(m.kind === 'article' && [m.front.section, m.front.source]).toEqual(['要聞', '大公報']);
    const bad = mapItem(item({ title: { value: '題'.repeat(300), html: false } }), feed, { timeZone: HK });
    expect(bad).toMatchObject({ kind: 'skipped', problems: [{ field: 'title' }] });
  });

  it('derives ids from the identity, and the slug from the url path or an ASCII title', () => {
    expect(articleId('k', 'https://x.example/a/B%20c.html', '標題')).toMatch(/^b-c-[0-9a-f]{10}$/);
    expect(articleId('k', 'https://x.example/', 'Hello World')).toMatch(/^hello-world-/);
    expect(articleId('k', 'https://x.example/', '港聞')).toMatch(/^item-/);
    expect(articleId('k', undefined, '')).toBe(articleId('k', 'https://x.example/', '港聞'));
  });
});

describe('parseFeedText', () => {
  it('names the source in FEED_INVALID for malformed XML, HTML and empty JSON', () => {
    for (const text of [
      '<rss version="2.0"><channel><title>x</title><item><title>a</item>',
      '<html></html>',
      '{}',
      '',
    ]) {
      expect(() => parseFeedText(text, 'bad.xml')).toThrow(
        expect.objectContaining({ code: 'FEED_INVALID', message: expect.stringContaining('bad.xml') }),
      );
    }
  });

  it('uses a guid as the link only when it is an http(s) URL, and bylines only from names', () => {
    const xml = (guid: string) =>
      `<rss version="2.0"><channel><title>t</title><link>https://news.example.com/</link><item><title>a</title><guid>${guid}</guid><author>editor@example.com (記者甲)</author><author>desk@example.com</author></item></channel></rss>`;
    const [opaque] = parseFeedText(xml('tkp-1'), 'x').items;
    expect(opaque!.link).toBeUndefined();
    expect(opaque!.authors).toEqual(['記者甲']);
    expect(parseFeedText(xml('https://news.example.com/a/1'), 'x').items[0]!.link).toBe(
      'https://news.example.com/a/1',
    );
  });
});
