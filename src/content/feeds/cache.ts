// Conditional-GET validators per feed URL, in a small JSON file in the local
// data folder (next to the SQLite store; with a PostgreSQL store, the folder
// paths.store would use — a host's own cache: another host just fetches once more).
// Written atomically; a missing or corrupt file just means "fetch everything".
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Context, localDataDir } from '../../context.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { Validators } from './fetch.ts';

export interface CacheEntry extends Validators {
  checkedAt: string;
}

type CacheFile = { version: 1; feeds: Record<string, CacheEntry> };

export const feedCachePath = (ctx: Context) => join(localDataDir(ctx), 'feed-cache.json');

export async function readFeedCache(file: string): Promise<CacheFile['feeds']> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
    return data && typeof data.feeds === 'object' && data.feeds ? data.feeds : {};
  } catch {
    return {};
  }
}

/** Record (or forget, when the server sent no validators) what to send next time for `url`. */
export async function rememberValidators(file: string, url: string, v: Validators, now: Date): Promise<void> {
  // Re-read just before writing so entries another run saved meanwhile survive.
  const feeds = await readFeedCache(file);
  if (v.etag || v.lastModified) feeds[url] = { ...v, checkedAt: now.toISOString() };
  else delete feeds[url];
  await writeFileAtomic(file, `${JSON.stringify({ version: 1, feeds } satisfies CacheFile, null, 2)}\n`);
}
