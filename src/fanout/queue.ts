import PgBoss from 'pg-boss';
import { BroadsheetError } from '../errors/index.ts';
import type { PgPool } from '../store/pg/pool.ts';
import { displayUrl } from '../store/pg/pool.ts';
import type { WorkerConfig } from './config.ts';

// The send queue on pg-boss (schema "pgboss" in the same PostgreSQL): one job
// per batch of an edition — the ledger rows with lo ≤ subscriber id < hi. The
// queue's "stately" policy with the singleton key edition:lo keeps one queued
// job per batch, and queueBatches skips batches that already have a job
// waiting or running, so a repeated `send` queues nothing twice. A job expires
// after worker.leaseSeconds (pg-boss maintenance moves it to retry): the
// batch of a killed worker is taken over; its rows' claims expire with it.

export const SEND_QUEUE = 'broadsheet-send';

export interface BatchJob {
  edition: string;
  lo: number;
  hi: number;
  /** The transport `send` chose (each worker uses its own host's SMTP_URL for it). */
  transport: string;
}

const RACES = ['40P01', '40001', '23505', '42P07', '42710'];

export async function startBoss(
  pool: PgPool,
  url: string,
  cfg: WorkerConfig,
  opts: { supervise: boolean; onError?: (err: Error) => void },
): Promise<PgBoss> {
  // Several processes starting at once on a fresh database race to create pg-boss's
  // schema and the queue; PostgreSQL may answer one of them "deadlock detected"
  // (40P01), a serialization failure (40001) or that the schema/table/object it
  // was creating now exists (23505 on pg_namespace, 42P07, 42710) — seen with 3
  // workers and 2 daemons starting together. Starting is idempotent: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBossOnce(pool, url, cfg, opts);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      if (attempt >= 5 || !RACES.includes(cause?.code ?? '')) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt + Math.random() * 200));
    }
  }
}

async function startBossOnce(
  pool: PgPool,
  url: string,
  cfg: WorkerConfig,
  opts: { supervise: boolean; onError?: (err: Error) => void },
): Promise<PgBoss> {
  const boss = new PgBoss({
    // Our pool: the queue's statements count against store.poolMax, not a second pool.
    db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
    schema: 'pgboss',
    supervise: opts.supervise,
    schedule: false,
    // Expired jobs are found by maintenance: often enough that a killed worker's batch waits ~one lease.
    maintenanceIntervalSeconds: Math.max(1, Math.floor(cfg.leaseSeconds / 2)),
    monitorStateIntervalSeconds: 60,
  });
  boss.on('error', (err) => opts.onError?.(err));
  try {
    await boss.start();
    await boss.createQueue(SEND_QUEUE, {
      name: SEND_QUEUE,
      policy: 'stately',
      retryLimit: 1_000_000,
      retryDelay: 0,
      expireInSeconds: cfg.leaseSeconds,
    });
  } catch (err) {
    await boss.stop({ graceful: false, wait: false }).catch(() => {});
    throw new BroadsheetError(
      'FANOUT_QUEUE_FAILED',
      { store: displayUrl(url), detail: (err as Error).message },
      { cause: err },
    );
  }
  return boss;
}

export const batchKey = (edition: string, lo: number) => `${edition}:${lo}`;

/**
 * Queue a job for every batch of the edition that has pending rows and no job
 * waiting or running. `upTo` (send --limit): only rows with subscriber id <
 * upTo; the batch that straddles it is cut there (its key is the same, so a
 * later send queues the rest of it once this one is done).
 */
export async function queueBatches(
  boss: PgBoss,
  pool: PgPool,
  edition: string,
  batchSize: number,
  transport: string,
  upTo?: number,
): Promise<{ batches: number; queued: number }> {
  const ranges = await pool.query<{ k: number }>(
    `SELECT DISTINCT subscriber_id / $2 AS k FROM sends
     WHERE edition = $1 AND state IN ('queued','deferred') AND ($3::bigint IS NULL OR subscriber_id < $3) ORDER BY k`,
    [edition, batchSize, upTo ?? null],
  );
  const open = new Set(
    (
      await pool.query<{ key: string }>(
        `SELECT singleton_key AS key FROM pgboss.job
         WHERE name = $1 AND state < 'completed' AND singleton_key LIKE $2`,
        [SEND_QUEUE, `${edition.replace(/[\\%_]/g, '\\$&')}:%`],
      )
    ).rows.map((r) => r.key),
  );
  let queued = 0;
  for (const { k } of ranges.rows) {
    const lo = k * batchSize;
    const key = batchKey(edition, lo);
    if (open.has(key)) continue;
    const job: BatchJob = { edition, lo, hi: Math.min(lo + batchSize, upTo ?? lo + batchSize), transport };
    if (await boss.send(SEND_QUEUE, job, { singletonKey: key })) queued++;
  }
  return { batches: ranges.rows.length, queued };
}

/**
 * send --limit N: the exclusive subscriber-id bound under which the edition's
 * first N pending rows lie (undefined: fewer than N are pending, all go).
 */
export async function limitBound(pool: PgPool, edition: string, limit: number): Promise<number | undefined> {
  const r = await pool.query<{ id: number }>(
    `SELECT subscriber_id AS id FROM sends WHERE edition = $1 AND state IN ('queued','deferred')
     ORDER BY subscriber_id OFFSET $2 LIMIT 1`,
    [edition, limit - 1],
  );
  const nth = r.rows[0]?.id;
  if (nth === undefined) return undefined;
  const more = await pool.query(
    `SELECT 1 FROM sends WHERE edition = $1 AND state IN ('queued','deferred') AND subscriber_id > $2 LIMIT 1`,
    [edition, nth],
  );
  return more.rowCount ? Number(nth) + 1 : undefined;
}

/** Batches of the edition waiting or running anywhere. */
export async function openBatches(pool: PgPool, edition: string): Promise<number> {
  const r = await pool.query<{ n: number }>(
    `SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND state < 'completed' AND singleton_key LIKE $2`,
    [SEND_QUEUE, `${edition.replace(/[\\%_]/g, '\\$&')}:%`],
  );
  return r.rows[0]!.n;
}
