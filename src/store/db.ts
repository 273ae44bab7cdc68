import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { BroadsheetError } from '../errors/index.ts';
import { migrations } from './migrations.ts';

export type DB = Database.Database;

/**
 * Open (creating if needed) the SQLite store and bring its schema up to date.
 * WAL lets `subscribers list` or `status` read while a send writes.
 *
 * Durability: with WAL and synchronous=NORMAL (the default) a commit that
 * returned is in the WAL file, so it survives the process being killed —
 * which is what the exactly-once ledger relies on — but the last commits
 * before a power cut or kernel crash may roll back. synchronous=FULL
 * (`delivery.fsyncEachCommit: true`) closes that too, at one fsync per
 * commit (~4 ms here: at most ~125 messages/s).
 * busy_timeout waits out a concurrent writer instead of failing.
 */
export function openStore(file: string, opts: { readonly?: boolean; fsyncEachCommit?: boolean } = {}): DB {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  let db: DB;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false });
  } catch (err) {
    throw new BroadsheetError('STORE_UNAVAILABLE', { file }, { cause: err });
  }
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.fsyncEachCommit ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db, file);
  }
  return db;
}

function migrate(db: DB, file: string) {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length)
    throw new BroadsheetError('STORE_TOO_NEW', { file, version: current, known: migrations.length });
  // IMMEDIATE: two processes opening a fresh store at once migrate one after the other.
  db.transaction(() => {
    const v = db.pragma('user_version', { simple: true }) as number;
    for (let i = v; i < migrations.length; i++) db.exec(migrations[i]!);
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}
