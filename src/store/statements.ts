import type { Statement } from 'better-sqlite3';
import type { DB } from './db.ts';

// Prepared statements, compiled once per connection and SQL text. Preparing
// costs more than running a simple statement: a 100,000-row import spent 14 of
// its 46 seconds in prepare() before this. better-sqlite3 statements stay valid
// for the life of their connection (a schema change re-prepares them inside
// SQLite), and the WeakMap lets a closed connection's cache go with it.

const caches = new WeakMap<DB, Map<string, Statement>>();

/** `db.prepare(sql)`, cached per connection. */
export function stmt<R = unknown>(db: DB, sql: string): Statement<unknown[], R> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let s = cache.get(sql);
  if (!s) {
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s as Statement<unknown[], R>;
}
