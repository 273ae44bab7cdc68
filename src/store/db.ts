import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { isPgUrl } from '../context.ts';
import { BroadsheetError, isBroadsheetError } from '../errors/index.ts';
import { ensureDirSync, errnoOf, fsError, nearestFolder } from '../util/fs-errors.ts';
import { displayPath } from '../util/paths.ts';
import { redactUrl } from './backend.ts';
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
 *
 * Every way opening can fail is named here, once (see storeError): a text file
 * or a damaged file given as --store, a folder SQLite cannot write its -wal
 * and -shm files in, a full disk.
 */
/** The store file this process opened last: names the file when a later statement fails (see cli/app.ts). */
export let lastOpenedStore: string | undefined;

export function openStore(file: string, opts: { readonly?: boolean; fsyncEachCommit?: boolean } = {}): DB {
  if (isPgUrl(file)) throw notOnPostgres(file);
  lastOpenedStore = file;
  if (file !== ':memory:' && !opts.readonly) {
    try {
      ensureDirSync(dirname(file));
    } catch (err) {
      throw storeError(err, file);
    }
  }
  let db: DB | undefined;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false });
    db.pragma('busy_timeout = 5000');
    // Reading the schema reads page 1: a file that is not SQLite, or whose
    // header or schema is damaged, fails here rather than in the middle of a send.
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
      n: number;
    };
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0 && tables.n > 0)
      throw new BroadsheetError('STORE_CORRUPT', {
        file: displayPath(file),
        detail:
          'it is an SQLite database, but not a Broadsheet store (it has tables and no Broadsheet schema version)',
      });
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.fsyncEachCommit ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      migrate(db, file);
    }
    return db;
  } catch (err) {
    db?.close();
    throw storeError(err, file);
  }
}

const CORRUPT = /^SQLITE_(NOTADB|CORRUPT)/;
const NOT_WRITABLE = /^SQLITE_(READONLY|CANTOPEN|PERM)/;

/**
 * The catalog error for a failure on the store `file` (opening it, or a write
 * that hit a full disk): STORE_CORRUPT, STORE_NOT_WRITABLE, FS_DISK_FULL, else
 * STORE_UNAVAILABLE with the SQLite error as its cause.
 */
export function storeError(err: unknown, file: string): BroadsheetError {
  if (isBroadsheetError(err)) return err;
  const code = errnoOf(err) ?? '';
  const shown = displayPath(file);
  const dir = dirname(file);
  if (CORRUPT.test(code))
    return new BroadsheetError(
      'STORE_CORRUPT',
      {
        file: shown,
        detail: code.startsWith('SQLITE_NOTADB')
          ? 'it is not an SQLite database (a text file, or another format?)'
          : 'the SQLite file is damaged',
      },
      { cause: err },
    );
  if (
    ['SQLITE_FULL', 'ENOSPC', 'EDQUOT'].includes(code) ||
    (code.startsWith('SQLITE_IOERR') && diskFull(dir))
  )
    return new BroadsheetError(
      'FS_DISK_FULL',
      { path: shown, dir: displayPath(dir), errno: code },
      { cause: err },
    );
  if (/^E[A-Z]+$/.test(code)) {
    // mkdir of the store's folder: a read-only mount or a folder we may not write.
    if (['EROFS', 'EACCES', 'EPERM'].includes(code))
      return new BroadsheetError(
        'STORE_NOT_WRITABLE',
        { file: shown, dir: displayPath(nearestFolder(file)), detail: `cannot create its folder (${code})` },
        { cause: err },
      );
    return fsError(err, file) ?? new BroadsheetError('STORE_UNAVAILABLE', { file: shown }, { cause: err });
  }
  if (NOT_WRITABLE.test(code) && !isDirectory(file) && !folderWritable(dir))
    return new BroadsheetError(
      'STORE_NOT_WRITABLE',
      { file: shown, dir: displayPath(dir), detail: `its folder is not writable (${code})` },
      { cause: err },
    );
  return new BroadsheetError('STORE_UNAVAILABLE', { file: shown }, { cause: err });
}

/**
 * SQLite's I/O errors do not carry errno: growing the -shm or -wal file on a
 * full disk reads as SQLITE_IOERR_SHMSIZE or _WRITE. Ask the file system.
 */
function diskFull(dir: string): boolean {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

const isDirectory = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** access(W_OK) answers EROFS on a read-only mount, even for root. */
function folderWritable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
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

/**
 * A command that has not moved to the store interface yet, given a PostgreSQL
 * store: a clear refusal naming the command, never a file called "postgres:".
 */
function notOnPostgres(url: string): BroadsheetError {
  const words = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  return new BroadsheetError('STORE_PG_UNSUPPORTED', {
    store: redactUrl(url),
    command: `broadsheet ${words.slice(0, 2).join(' ')}`.trim(),
  });
}
