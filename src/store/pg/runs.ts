// The runs table on PostgreSQL (issue 17): one row per send, as in src/store/runs.ts.
import type { RunStore } from '../runs.ts';
import { type PgPool, pgError } from './pool.ts';

export function pgRuns(pool: PgPool, url: string): RunStore {
  return {
    async startRun(kind, edition, now) {
      try {
        const r = await pool.query<{ id: number }>(
          'INSERT INTO runs (kind, edition, pid, started_at) VALUES ($1, $2, $3, $4) RETURNING id',
          [kind, edition ?? null, process.pid, now.toISOString()],
        );
        return r.rows[0]!.id;
      } catch (err) {
        throw pgError(err, url);
      }
    },
    async finishRun(id, status, summary, now) {
      try {
        await pool.query('UPDATE runs SET finished_at = $1, status = $2, summary = $3 WHERE id = $4', [
          now.toISOString(),
          status,
          JSON.stringify(summary),
          id,
        ]);
      } catch (err) {
        throw pgError(err, url);
      }
    },
  };
}
