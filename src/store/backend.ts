import { resolve } from 'node:path';
import { BroadsheetError } from '../errors/index.ts';
import type { StoreConfig } from './config.ts';
import type { DB } from './db.ts';
import type { PgPool } from './pg/pool.ts';

/**
 * Where the store is (issue 17): the SQLite file (the embedded default) or a
 * PostgreSQL database shared by several hosts. `ctx.paths.store` holds either
 * an absolute file path or the postgres:// URL (context.ts resolvePaths picks
 * it: --store, then DATABASE_URL, then store.url, then paths.store).
 */
export type StoreTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** An open store: the handle each repository's `…For(backend)` takes. */
export type Backend =
  | { kind: 'sqlite'; db: DB; file: string }
  | { kind: 'postgres'; pool: PgPool; url: string };

export { isPgUrl } from '../context.ts';

import { isPgUrl } from '../context.ts';

/** The URL with its password replaced: what messages and logs may show. */
export const redactUrl = (v: string) => v.replace(/:\/\/([^:/@]+):[^@]*@/, '://$1:***@');

/** Parse a store address: postgres://…, sqlite:PATH, or a plain path (relative to `root`). */
export function parseStoreTarget(value: string, root = process.cwd()): StoreTarget {
  const given: string | undefined = value; // isPgUrl narrows; `value` stays a string below
  if (isPgUrl(given)) {
    try {
      new URL(value);
    } catch {
      throw new BroadsheetError('STORE_URL_INVALID', {
        value: redactUrl(value),
        detail: 'the URL does not parse',
      });
    }
    return { kind: 'postgres', url: value };
  }
  const file = value.startsWith('sqlite:') ? value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file))
    throw new BroadsheetError('STORE_URL_INVALID', {
      value: redactUrl(value),
      detail: 'only postgres:// URLs and SQLite file paths are stores',
    });
  if (!file) throw new BroadsheetError('STORE_URL_INVALID', { value, detail: 'no file named after sqlite:' });
  return { kind: 'sqlite', file: file === ':memory:' ? file : resolve(root, file) };
}

/**
 * Open the store the target names: the SQLite file (created and migrated), or
 * a PostgreSQL pool (checked with one round trip and migrated under an
 * advisory lock). `migrate: false` opens a PostgreSQL store without touching
 * its schema (status, report: read-only use).
 */
export async function openBackend(
  target: StoreTarget,
  cfg: StoreConfig,
  opts: { readonly?: boolean; fsyncEachCommit?: boolean; migrate?: boolean; applicationName?: string } = {},
): Promise<Backend> {
  if (target.kind === 'sqlite') {
    const { openStore } = await import('./db.ts');
    return { kind: 'sqlite', db: openStore(target.file, opts), file: target.file };
  }
  const { openPgPool } = await import('./pg/pool.ts');
  const pool = await openPgPool(target.url, cfg, opts.applicationName);
  if (opts.migrate !== false && !opts.readonly) {
    const { migratePg } = await import('./pg/schema.ts');
    try {
      await migratePg(pool, target.url);
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }
  return { kind: 'postgres', pool, url: target.url };
}

export async function closeBackend(b: Backend): Promise<void> {
  if (b.kind === 'sqlite') b.db.close();
  else await b.pool.end();
}

/** What messages may show of a store: the file, or the URL without its password. */
export function displayStore(t: StoreTarget | Backend): string {
  return t.kind === 'sqlite' ? t.file : redactUrl(t.url);
}

/**
 * What a store interface method returns: the SQLite implementation answers
 * synchronously (the exactly-once commit stays a synchronous write before the
 * end-of-data goes out), the PostgreSQL one with a promise. Callers `await`.
 */
export type Awaitable<T> = T | Promise<T>;
