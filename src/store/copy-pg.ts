import { randomBytes } from 'node:crypto';
import { BroadsheetError } from '../errors/index.ts';
import type { StoreConfig } from './config.ts';
import { q, type TableInfo } from './copy-schema.ts';
import { claim, type LiveLease, type SourceSide, standing, type TargetSide } from './copy-side.ts';
import { displayUrl, openPgPool, type PgClient, type PgPool, pgError } from './pg/pool.ts';
import { migratePg, pgSchemaVersion } from './pg/schema.ts';

/** Database time in epoch ms: the clock leases are written in on a shared store. */
const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/** PostgreSQL caps a statement at 65535 parameters. */
const MAX_PARAMS = 65_000;

/**
 * The PostgreSQL end of a copy: one connection held for the whole copy (the
 * snapshot, or the write transaction, lives on it).
 */
class PgSide {
  readonly kind = 'postgres' as const;
  readonly display: string;
  /** The application_name this side's connection shows in pg_stat_activity (the same-database check). */
  readonly tag: string;
  constructor(
    protected pool: PgPool,
    protected c: PgClient,
    protected url: string,
    tag: string,
  ) {
    this.display = displayUrl(url);
    this.tag = tag;
  }

  protected async run<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ) {
    try {
      return await this.c.query<R>(text, values);
    } catch (err) {
      throw pgError(err, this.url);
    }
  }

  async version() {
    return pgSchemaVersion(this.pool);
  }

  async tables(): Promise<TableInfo[]> {
    const cols = await this.run<{ t: string; c: string }>(
      `SELECT table_name AS t, column_name AS c FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name <> 'broadsheet_schema'
          AND table_name IN (SELECT tablename FROM pg_tables WHERE schemaname = current_schema())
        ORDER BY table_name, ordinal_position`,
    );
    const refs = await this.run<{ t: string; ref: string }>(
      `SELECT DISTINCT src.relname AS t, dst.relname AS ref
         FROM pg_constraint k
         JOIN pg_class src ON src.oid = k.conrelid
         JOIN pg_class dst ON dst.oid = k.confrelid
         JOIN pg_namespace n ON n.oid = src.relnamespace
        WHERE k.contype = 'f' AND n.nspname = current_schema()`,
    );
    const out = new Map<string, TableInfo>();
    for (const { t, c } of cols.rows) {
      if (!out.has(t)) out.set(t, { name: t, columns: [], refs: [] });
      out.get(t)!.columns.push(c);
    }
    for (const { t, ref } of refs.rows) out.get(t)?.refs.push(ref);
    return [...out.values()];
  }

  async liveLeases(prefix: string): Promise<LiveLease[]> {
    const r = await this.run<Omit<LiveLease, 'msLeft'> & { ms_left: number }>(
      `SELECT name, holder, pid, host, expires_at - ${DB_NOW_MS} AS ms_left FROM leases
        WHERE starts_with(name, $1) AND expires_at > ${DB_NOW_MS} ORDER BY name`,
      [prefix],
    );
    return r.rows
      .map(({ ms_left, ...l }) => ({ ...l, msLeft: Number(ms_left) }))
      .filter((l) => standing(l, l.msLeft));
  }

  async liveClaims(): Promise<LiveLease[]> {
    const r = await this.run<{ edition: string; worker: string; ms_left: number }>(
      `SELECT edition, worker, max(claimed_until) - ${DB_NOW_MS} AS ms_left FROM sends
        WHERE worker IS NOT NULL AND claimed_until > ${DB_NOW_MS} GROUP BY edition, worker ORDER BY edition, worker`,
    );
    return r.rows.map((x) => claim(x.edition, x.worker, Number(x.ms_left)));
  }

  async count(table: string) {
    const r = await this.run<{ n: number }>(`SELECT count(*) AS n FROM ${q(table)}`);
    return Number(r.rows[0]?.n ?? 0);
  }

  async close() {
    this.c.release();
    await this.pool.end().catch(() => {});
  }
}

class PgSource extends PgSide implements SourceSide {
  async snapshot() {
    await this.run('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // The snapshot is taken at the first statement of the transaction.
    await this.run('SELECT 1');
  }

  async *read(table: string, columns: string[], size: number): AsyncIterable<unknown[][]> {
    await this.run(
      `DECLARE bs_copy NO SCROLL CURSOR FOR SELECT ${columns.map(q).join(', ')} FROM ${q(table)}`,
    );
    try {
      for (;;) {
        let rows: unknown[][];
        try {
          rows = (await this.c.query({ text: `FETCH ${size} FROM bs_copy`, rowMode: 'array' })).rows;
        } catch (err) {
          throw pgError(err, this.url);
        }
        if (!rows.length) break;
        yield rows;
      }
    } finally {
      await this.c.query('CLOSE bs_copy').catch(() => {});
    }
  }

  override async close() {
    await this.c.query('ROLLBACK').catch(() => {});
    await super.close();
  }
}

export class PgTarget extends PgSide implements TargetSide {
  async migrate() {
    await migratePg(this.pool, this.url);
  }

  async begin(tables: string[]) {
    await this.run('BEGIN');
    // A copy waits at most this long for a writer of the target to finish.
    await this.run("SET LOCAL lock_timeout = '15s'");
    // SHARE ROW EXCLUSIVE: readers go on, no other writer until COMMIT, so the
    // emptiness check and the counts after the copy see only this copy's rows.
    if (tables.length) await this.run(`LOCK TABLE ${tables.map(q).join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
  }

  async empty(tables: string[]) {
    if (tables.length) await this.run(`TRUNCATE ${tables.map(q).join(', ')}`);
  }

  async insert(table: string, columns: string[], rows: unknown[][]) {
    const per = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      const values: unknown[] = [];
      const tuples = chunk.map((row) => {
        const start = values.length;
        values.push(...row);
        return `(${row.map((_, j) => `$${start + j + 1}`).join(', ')})`;
      });
      try {
        await this.c.query(
          `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES ${tuples.join(', ')}`,
          values,
        );
      } catch (err) {
        // Integrity (23…) and data (22…) errors are about a row; the rest about the server.
        if (/^2[23]/.test(String((err as { code?: unknown }).code ?? '')))
          throw new BroadsheetError(
            'STORE_COPY_ROW_REJECTED',
            { table, to: this.display, detail: String((err as Error).message).slice(0, 300) },
            { cause: err },
          );
        throw pgError(err, this.url);
      }
    }
  }

  async finish(tables: TableInfo[]) {
    // GENERATED BY DEFAULT AS IDENTITY took the copied ids as given without
    // moving its sequence: set it past the largest, or the next insert collides.
    const ids = await this.run<{ t: string; c: string }>(
      `SELECT table_name AS t, column_name AS c FROM information_schema.columns
        WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`,
    );
    const copied = new Set(tables.map((t) => t.name));
    for (const { t, c } of ids.rows) {
      if (!copied.has(t)) continue;
      await this.run(
        `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(${q(c)}) FROM ${q(t)}), 0) + 1, false)`,
        [q(t), c],
      );
    }
  }

  async commit() {
    await this.run('COMMIT');
  }

  /** Whether a connection tagged `tag` is on this very database (same server, same database). */
  async sees(tag: string) {
    const r = await this.run(
      'SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [tag],
    );
    return r.rows.length > 0;
  }

  async rollback() {
    await this.c.query('ROLLBACK').catch(() => {});
  }
}

async function connect(url: string, cfg: StoreConfig, role: 'source' | 'target') {
  const tag = `broadsheet store copy ${role} ${randomBytes(4).toString('hex')}`;
  const pool = await openPgPool(url, { ...cfg, poolMax: 2 }, tag);
  try {
    return { pool, client: await pool.connect(), tag };
  } catch (err) {
    await pool.end().catch(() => {});
    throw pgError(err, url);
  }
}

/** The source database, read-only, never migrated. */
export async function openPgSource(url: string, cfg: StoreConfig): Promise<SourceSide> {
  const { pool, client, tag } = await connect(url, cfg, 'source');
  return new PgSource(pool, client, url, tag);
}

/** The target database (migrate() brings its schema up to date). */
export async function openPgTarget(url: string, cfg: StoreConfig): Promise<PgTarget> {
  const { pool, client, tag } = await connect(url, cfg, 'target');
  return new PgTarget(pool, client, url, tag);
}
