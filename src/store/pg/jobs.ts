// job_runs on PostgreSQL (issue 17): the same rows and rules as the SQLite
// functions in src/store/jobs.ts. UNIQUE (job, occurrence) is the proof an
// occurrence was handled; startJobRun claims or settles in one transaction with
// the row locked (SELECT … FOR UPDATE, INSERT … ON CONFLICT DO NOTHING), so two
// hosts never both insert or both take over one occurrence.
import {
  COLUMNS,
  fromRaw,
  isDeadProcessError,
  type JobRunRow,
  type JobRunStore,
  type RawRow,
  type SendCount,
} from '../jobs.ts';
import { type PgClient, type PgPool, pgError, withTransaction } from './pool.ts';

// The SQLite column list uses camelCase aliases; PostgreSQL folds unquoted ones.
const COLS = COLUMNS.replace(/ AS (\w+)/g, ' AS "$1"');

export function pgJobRuns(pool: PgPool, url: string): JobRunStore {
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw pgError(err, url);
    }
  };
  const rows = (sql: string, args: unknown[], c: PgPool | PgClient = pool) =>
    run(async () => (await c.query<RawRow>(sql, args)).rows.map(fromRaw));
  const one = async (sql: string, args: unknown[], c?: PgPool | PgClient) => (await rows(sql, args, c))[0];
  const changed = (sql: string, args: unknown[]) =>
    run(async () => ((await pool.query(sql, args)).rowCount ?? 0) > 0);

  return {
    getRun: (job, occurrence) =>
      one(`SELECT ${COLS} FROM job_runs WHERE job = $1 AND occurrence = $2`, [job, occurrence]),
    getRunById: (id) => one(`SELECT ${COLS} FROM job_runs WHERE id = $1`, [id]),
    lastOccurrence: (job) =>
      one(
        `SELECT ${COLS} FROM job_runs WHERE job = $1 AND occurrence IS NOT NULL ORDER BY occurrence DESC LIMIT 1`,
        [job],
      ),
    startJobRun: (s, host) =>
      run(() =>
        withTransaction(pool, async (c): Promise<{ id: number } | { settled: JobRunRow }> => {
          const now = s.now.toISOString();
          if (s.occurrence !== null) {
            const ins = await c.query<{ id: number }>(
              `INSERT INTO job_runs (job, kind, occurrence, trigger, outcome, attempts, pid, host, started_at, created_at)
               VALUES ($1, $2, $3, $4, 'running', 1, $5, $6, $7, $7)
               ON CONFLICT (job, occurrence) DO NOTHING RETURNING id`,
              [s.job, s.kind, s.occurrence, s.trigger, process.pid, host, now],
            );
            if (ins.rows[0]) return { id: ins.rows[0].id };
            const cur = (await one(
              `SELECT ${COLS} FROM job_runs WHERE job = $1 AND occurrence = $2 FOR UPDATE`,
              [s.job, s.occurrence],
              c,
            ))!;
            const dead = cur.outcome === 'failed' && s.retakeDead && isDeadProcessError(cur.error);
            if (cur.outcome !== 'running' && !dead) return { settled: cur };
            await c.query(
              `UPDATE job_runs SET outcome = 'running', attempts = attempts + 1, trigger = $1, pid = $2, host = $3,
                 started_at = $4, finished_at = CASE WHEN $5::boolean THEN NULL ELSE finished_at END, error = NULL WHERE id = $6`,
              [s.trigger, process.pid, host, now, Boolean(dead), cur.id],
            );
            return { id: cur.id };
          }
          const r = await c.query<{ id: number }>(
            `INSERT INTO job_runs (job, kind, occurrence, trigger, outcome, attempts, pid, host, started_at, created_at)
             VALUES ($1, $2, NULL, $3, 'running', 1, $4, $5, $6, $6) RETURNING id`,
            [s.job, s.kind, s.trigger, process.pid, host, now],
          );
          return { id: r.rows[0]!.id };
        }),
      ),
    finishJobRun: (id, f) =>
      changed(
        `UPDATE job_runs SET outcome = $1, finished_at = $2, edition = $3, counts = $4, summary = $5, error = $6
         WHERE id = $7 AND outcome = 'running'`,
        [
          f.outcome,
          f.now.toISOString(),
          f.edition ?? null,
          f.counts ? JSON.stringify(f.counts) : null,
          f.summary?.slice(0, 2000) ?? null,
          f.error?.slice(0, 2000) ?? null,
          id,
        ],
      ),
    recordSkipped: (s, items) =>
      run(async () => {
        const now = s.now.toISOString();
        let n = 0;
        for (const i of items)
          n +=
            (
              await pool.query(
                `INSERT INTO job_runs (job, kind, occurrence, trigger, outcome, attempts, finished_at, error, created_at)
                 VALUES ($1, $2, $3, $4, 'skipped', 0, $5, $6, $5) ON CONFLICT (job, occurrence) DO NOTHING`,
                [s.job, s.kind, i.occurrence, s.trigger, now, i.reason],
              )
            ).rowCount ?? 0;
        return n;
      }),
    markInterrupted: (id, reason, now) =>
      changed(
        "UPDATE job_runs SET outcome = 'failed', finished_at = $1, error = $2 WHERE id = $3 AND outcome = 'running'",
        [now.toISOString(), reason, id],
      ),
    runningRuns: (job) =>
      job === undefined
        ? rows(`SELECT ${COLS} FROM job_runs WHERE outcome = 'running' ORDER BY id`, [])
        : rows(`SELECT ${COLS} FROM job_runs WHERE outcome = 'running' AND job = $1 ORDER BY id`, [job]),
    recentRuns: (job, limit) =>
      rows(
        `SELECT ${COLS} FROM job_runs WHERE job = $1 ORDER BY COALESCE(occurrence, started_at) DESC, id DESC LIMIT $2`,
        [job, limit],
      ),
    sendCounts: (limit = 20) =>
      run(async () => {
        const r = await pool.query<{ edition: string; state: string; n: number }>(
          `SELECT edition, state, count(*) AS n FROM sends
           WHERE edition IN (SELECT edition FROM sends GROUP BY edition ORDER BY max(updated_at) DESC LIMIT $1)
           GROUP BY edition, state`,
          [limit],
        );
        const out = new Map<string, SendCount>();
        for (const x of r.rows) {
          const e = out.get(x.edition) ?? { edition: x.edition, total: 0, byState: {} };
          e.byState[x.state] = x.n;
          e.total += x.n;
          out.set(x.edition, e);
        }
        for (const e of out.values()) {
          const s = await pool.query<{ summary: string }>(
            "SELECT summary FROM runs WHERE kind = 'send' AND edition = $1 AND summary IS NOT NULL ORDER BY id DESC LIMIT 1",
            [e.edition],
          );
          const n = s.rows[0]
            ? (JSON.parse(s.rows[0].summary) as { topicVariants?: number }).topicVariants
            : 0;
          if (n) e.topicVariants = n;
        }
        return [...out.values()].sort((a, b) => b.edition.localeCompare(a.edition));
      }),
  };
}
