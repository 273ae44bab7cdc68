import { existsSync } from 'node:fs';
import { BroadsheetError } from '../errors/index.ts';
import { displayPath } from '../util/paths.ts';
import { q, type TableInfo } from './copy-schema.ts';
import { claim, type LiveLease, type SourceSide, standing, type TargetSide } from './copy-side.ts';
import { type DB, openStore, storeError } from './db.ts';

/** The SQLite end of a copy (better-sqlite3: synchronous, wrapped in promises for the common interface). */
class SqliteSide {
  readonly kind = 'sqlite' as const;
  readonly display: string;
  constructor(
    protected db: DB,
    protected file: string,
  ) {
    this.display = displayPath(file);
  }

  async version() {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async tables(): Promise<TableInfo[]> {
    const names = this.db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .pluck()
      .all() as string[];
    return names.map((name) => ({
      name,
      columns: (this.db.prepare(`PRAGMA table_info(${q(name)})`).all() as { name: string; cid: number }[])
        .sort((a, b) => a.cid - b.cid)
        .map((c) => c.name),
      refs: [
        ...new Set(
          (this.db.prepare(`PRAGMA foreign_key_list(${q(name)})`).all() as { table: string }[]).map(
            (f) => f.table,
          ),
        ),
      ],
    }));
  }

  async liveLeases(prefix: string): Promise<LiveLease[]> {
    const now = Date.now();
    const rows = this.db
      .prepare(
        'SELECT name, holder, pid, host, expires_at AS expiresAt FROM leases WHERE substr(name, 1, length(?)) = ? AND expires_at > ? ORDER BY name',
      )
      .all(prefix, prefix, now) as (Omit<LiveLease, 'msLeft'> & { expiresAt: number })[];
    return rows
      .map(({ expiresAt, ...r }) => ({ ...r, msLeft: expiresAt - now }))
      .filter((r) => standing(r, r.msLeft));
  }

  async liveClaims(): Promise<LiveLease[]> {
    const now = Date.now();
    const rows = this.db
      .prepare(
        `SELECT edition, worker, max(claimed_until) AS until FROM sends
          WHERE worker IS NOT NULL AND claimed_until > ? GROUP BY edition, worker ORDER BY edition, worker`,
      )
      .all(now) as { edition: string; worker: string; until: number }[];
    return rows.map((r) => claim(r.edition, r.worker, r.until - now));
  }

  async count(table: string) {
    return (
      (this.db
        .prepare(`SELECT count(*) FROM ${q(table)}`)
        .pluck()
        .get() as number) ?? 0
    );
  }

  async close() {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.db.close();
  }
}

class SqliteSource extends SqliteSide implements SourceSide {
  async snapshot() {
    // A deferred transaction starts reading at its first SELECT: from then on
    // every read sees the store as it was at that moment, while writers go on
    // (WAL: readers never block writers).
    this.db.exec('BEGIN');
    this.db.prepare('SELECT count(*) FROM sqlite_master').get();
  }

  async *read(table: string, columns: string[], size: number): AsyncIterable<unknown[][]> {
    const it = this.db
      .prepare(`SELECT ${columns.map(q).join(', ')} FROM ${q(table)}`)
      .raw(true)
      .iterate() as IterableIterator<unknown[]>;
    let batch: unknown[][] = [];
    try {
      for (const row of it) {
        batch.push(row);
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } finally {
      it.return?.();
    }
  }
}

class SqliteTarget extends SqliteSide implements TargetSide {
  private inserts = new Map<string, ReturnType<DB['prepare']>>();

  async migrate() {
    // openStore migrated it already (openSqliteTarget).
  }

  async begin() {
    // IMMEDIATE takes the write lock now: no other writer until COMMIT.
    this.db.exec('BEGIN IMMEDIATE');
  }

  async empty(tables: string[]) {
    for (const t of tables) this.db.prepare(`DELETE FROM ${q(t)}`).run();
  }

  async insert(table: string, columns: string[], rows: unknown[][]) {
    let st = this.inserts.get(table);
    if (!st) {
      st = this.db.prepare(
        `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
      this.inserts.set(table, st);
    }
    for (const row of rows) {
      try {
        st.run(row);
      } catch (err) {
        const code = String((err as { code?: unknown }).code ?? '');
        if (/^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG)/.test(code))
          throw new BroadsheetError(
            'STORE_COPY_ROW_REJECTED',
            { table, to: this.display, detail: (err as Error).message },
            { cause: err },
          );
        throw storeError(err, this.file);
      }
    }
  }

  async finish() {
    // Rowid tables take max(rowid) + 1 next: nothing to move.
  }

  async commit() {
    this.db.exec('COMMIT');
  }

  async rollback() {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
}

/** The source store, opened read-only and never migrated. */
export function openSqliteSource(file: string): SourceSide {
  if (file !== ':memory:' && !existsSync(file))
    throw new BroadsheetError('STORE_MISSING', { file: displayPath(file) });
  return new SqliteSource(openStore(file, { readonly: true }), file);
}

/** The target store, created if needed and migrated. */
export function openSqliteTarget(file: string): TargetSide {
  return new SqliteTarget(openStore(file), file);
}
