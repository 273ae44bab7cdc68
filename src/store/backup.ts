import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { BroadsheetError, isBroadsheetError } from '../errors/index.ts';
import { tempFor } from '../util/atomic.ts';
import { ensureDirSync, errnoOf, fsError } from '../util/fs-errors.ts';
import { displayPath } from '../util/paths.ts';
import { openStore } from './db.ts';

export interface BackupResult {
  store: string;
  file: string;
  bytes: number;
  pages: number;
  /** Rows per table in the copy, as counted in the copy. */
  rows: Record<string, number>;
}

/**
 * Copy the store to `file` with SQLite's online backup API: consistent even
 * while another process writes (WAL readers never block writers). The copy is
 * made next to the target under a temp name, checked (PRAGMA integrity_check),
 * switched to a self-contained rollback journal (one file to restore, no
 * -wal), flushed, and only then put in place: a failed backup leaves nothing at
 * `file`. Without `force` an existing file is never replaced (link(2) refuses
 * atomically, so two backups racing for one name cannot both win).
 */
export async function backupStore(
  store: string,
  file: string,
  opts: { force?: boolean } = {},
): Promise<BackupResult> {
  if (!existsSync(store)) throw new BroadsheetError('STORE_MISSING', { file: displayPath(store) });
  if (!opts.force && existsSync(file))
    throw new BroadsheetError('BACKUP_EXISTS', { file: displayPath(file) });
  try {
    ensureDirSync(dirname(file));
  } catch (err) {
    throw fsError(err, file) ?? err;
  }
  const src = openStore(store, { readonly: true });
  const tmp = tempFor(file);
  try {
    // One step for the whole file after the first: a step that restarts
    // because a writer committed meanwhile starts over from page 1, so many
    // small steps against a busy writer could never finish.
    const progress = await src.backup(tmp, { progress: () => 0x7fffffff });
    const copy = new Database(tmp);
    let rows: Record<string, number>;
    try {
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new Error(`integrity_check of the copy: ${String(check)}`);
      copy.pragma('journal_mode = DELETE');
      const tables = copy
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all() as { name: string }[];
      rows = Object.fromEntries(
        tables.map(({ name }) => [
          name,
          (copy.prepare(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number })
            .n,
        ]),
      );
    } finally {
      copy.close();
    }
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.force) renameSync(tmp, file);
    else {
      linkSync(tmp, file);
      rmSync(tmp, { force: true });
    }
    return {
      store: displayPath(store),
      file: displayPath(file),
      bytes: statSync(file).size,
      pages: progress.totalPages,
      rows,
    };
  } catch (err) {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}-journal`, { force: true });
    if (isBroadsheetError(err)) throw err;
    if (errnoOf(err) === 'EEXIST') throw new BroadsheetError('BACKUP_EXISTS', { file: displayPath(file) });
    throw (
      fsError(err, file) ??
      new BroadsheetError(
        'BACKUP_FAILED',
        {
          file: displayPath(file),
          store: displayPath(store),
          detail: err instanceof Error ? err.message : String(err),
        },
        { cause: err },
      )
    );
  } finally {
    src.close();
  }
}
