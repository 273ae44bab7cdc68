// Orchestration: read (file or HTTP) → decode → parse → map → write. Everything
// that can reject the whole feed happens before the first write, so a malformed
// feed writes nothing; after that, each item stands alone.
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { Context } from '../../context.ts';
import { BroadsheetError } from '../../errors/index.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { ArticleFrontMatter } from '../model.ts';
import { feedCachePath, readFeedCache, rememberValidators } from './cache.ts';
import { decodeFeed } from './decode.ts';
import { FETCH_DEFAULTS, type FetchOptions, fetchFeed, type Validators } from './fetch.ts';
import { hashOfId, type ItemProblem, type MapOptions, mapItem } from './map.ts';
import { type FeedFormat, parseFeedText } from './parse.ts';
import { plainOf } from './text.ts';

type Limits = Omit<FetchOptions, 'validators'>;

export interface IngestOptions extends Partial<Limits> {
  section?: string;
  source?: string;
  /** Ignore remembered ETag / Last-Modified and fetch the whole feed. */
  force?: boolean;
}

export interface IngestReport {
  source: string;
  /** True when the server answered 304: nothing was read or written. */
  notModified: boolean;
  format?: FeedFormat;
  feedTitle?: string;
  encoding?: string;
  items: number;
  written: { id: string; path: string }[];
  unchanged: { id: string }[];
  skipped: ItemProblem[];
}

export const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Relative to the working folder when inside it, else absolute: never "../../tmp/…". */
const shown = (root: string, file: string) => {
  const rel = relative(root, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
};

/** Front matter as YAML with every string double-quoted, so no value is ever read back as a number, date or bool. */
export function renderArticle(front: ArticleFrontMatter, body = ''): string {
  const yaml = stringify(front, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 });
  return `---\n${yaml}---\n${body ? `\n${body.trimEnd()}\n` : ''}`;
}

/**
 * Ids already in the content folder: file names (ingest names files after ids)
 * and front-matter ids of hand-written files, plus their identity hashes. A
 * regex, not a YAML parse, so one broken article elsewhere cannot stop an ingest.
 */
async function existingIds(articlesDir: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let entries: string[];
  try {
    entries = await readdir(articlesDir, { recursive: true });
  } catch {
    return ids;
  }
  for (const rel of entries.filter((e) => e.endsWith('.md'))) {
    ids.add(rel.split(/[\\/]/).at(-1)!.slice(0, -3));
    const text = await readFile(join(articlesDir, rel), 'utf8').catch(() => '');
    const fm = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1] ?? '';
    const id = /^id:[ \t]*["']?([a-z0-9][a-z0-9._-]*)["']?[ \t]*$/m.exec(fm)?.[1];
    if (id) ids.add(id);
  }
  for (const id of [...ids]) {
    const h = hashOfId(id);
    if (h) ids.add(`#${h}`);
  }
  return ids;
}

async function readSource(
  ctx: Context,
  source: string,
  opts: IngestOptions & Limits,
  validators: Validators | undefined,
) {
  if (isUrl(source)) return fetchFeed(source, { ...opts, validators });
  const file = resolve(ctx.paths.root, source);
  try {
    const size = (await stat(file)).size;
    if (size > opts.maxBytes) throw new Error(`file is ${size} bytes, over the ${opts.maxBytes}-byte limit`);
    const bytes = await readFile(file);
    return { status: 'ok' as const, url: undefined, bytes, contentType: undefined, validators: {} };
  } catch (err) {
    const detail = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new BroadsheetError('FEED_UNREADABLE', { file: source, detail }, { cause: err });
  }
}

export async function ingestFeed(
  ctx: Context,
  source: string,
  options: IngestOptions = {},
): Promise<IngestReport> {
  // An option given as undefined (an absent CLI flag) must not wipe out its default.
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const opts: IngestOptions & Limits = { ...FETCH_DEFAULTS, ...given };
  const report: IngestReport = {
    source,
    notModified: false,
    items: 0,
    written: [],
    unchanged: [],
    skipped: [],
  };
  const cacheFile = feedCachePath(ctx);
  const remembered = isUrl(source) && !opts.force ? (await readFeedCache(cacheFile))[source] : undefined;

  const got = await readSource(ctx, source, opts, remembered);
  if (got.status === 'not-modified') {
    ctx.logger.info({ source }, 'feed not modified since last ingest');
    return { ...report, notModified: true };
  }
  const { text, encoding } = decodeFeed(got.bytes, source, got.contentType);
  const feed = parseFeedText(text, source);
  Object.assign(report, {
    format: feed.format,
    feedTitle: plainOf(feed.title) || undefined,
    encoding,
    items: feed.items.length,
  });

  const articlesDir = join(ctx.paths.content, 'articles');
  const present = await existingIds(articlesDir);
  const mapOpts: MapOptions = {
    timeZone: ctx.config.timezone,
    section: opts.section,
    source: opts.source,
    base: got.url,
  };
  const seen = new Set<string>();
  for (const item of feed.items) {
    const m = mapItem(item, feed, mapOpts);
    if (m.kind === 'skipped') {
      for (const p of m.problems) ctx.logger.warn(p, 'feed item skipped');
      report.skipped.push(...m.problems);
      continue;
    }
    const { id } = m.front;
    if (seen.has(m.key)) {
      const p = {
        item: `item ${item.index}`,
        field: 'id',
        reason: `repeats an earlier item of this feed (${id})`,
      };
      ctx.logger.warn(p, 'feed item skipped');
      report.skipped.push(p);
      continue;
    }
    seen.add(m.key);
    // Present by exact id, or by identity hash when the item's URL (and so its slug) changed.
    if (present.has(id) || present.has(`#${hashOfId(id)}`)) {
      report.unchanged.push({ id });
      continue;
    }
    const file = join(articlesDir, m.date, `${id}.md`);
    await writeFileAtomic(file, renderArticle(m.front));
    report.written.push({ id, path: shown(ctx.paths.root, file) });
  }

  // Remember validators only after the feed was read through: a feed that failed
  // to parse must be fetched in full next time, not answered with a 304.
  if (isUrl(source)) await rememberValidators(cacheFile, source, got.validators, ctx.clock.now());
  return report;
}
