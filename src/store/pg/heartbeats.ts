// process_heartbeats on PostgreSQL (issue 17): every time is the database's
// (NOW_MS), never a host clock, so a daemon on a host whose clock runs fast is
// neither shown stale nor fresh by mistake. Interface: src/ops/heartbeat-store.ts.
import { type BeatRaw, fromBeatRaw, type HeartbeatStore, KEEP_SILENT_MS } from '../../ops/heartbeat-store.ts';
import { type PgPool, pgError } from './pool.ts';

/** The database's clock as epoch ms (clock_timestamp: the real time, not the transaction's start). */
export const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export function pgHeartbeats(pool: PgPool, url: string): HeartbeatStore {
  const q = async <R extends object = Record<string, unknown>>(sql: string, args: unknown[]) => {
    try {
      return await pool.query<R>(sql, args);
    } catch (err) {
      throw pgError(err, url);
    }
  };
  return {
    async begin(b) {
      await q(`DELETE FROM process_heartbeats WHERE beat_ms < ${NOW_MS} - $1`, [KEEP_SILENT_MS]);
      await q(
        `INSERT INTO process_heartbeats (instance, role, host, pid, started_ms, beat_ms, interval_ms, state, detail)
         VALUES ($1, $2, $3, $4, ${NOW_MS}, ${NOW_MS}, $5, 'running', $6)
         ON CONFLICT (instance) DO UPDATE SET beat_ms = EXCLUDED.beat_ms, state = 'running', detail = EXCLUDED.detail`,
        [b.instance, b.role, b.host, b.pid, b.intervalMs, b.detail ? JSON.stringify(b.detail) : null],
      );
    },
    async beat(instance, state, detail) {
      const r = await q(
        `UPDATE process_heartbeats SET beat_ms = ${NOW_MS}, state = $2, detail = $3 WHERE instance = $1`,
        [instance, state, detail ? JSON.stringify(detail) : null],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async list(opts = {}) {
      const args: unknown[] = [opts.limit ?? 100];
      if (opts.role) args.push(opts.role);
      const r = await q<BeatRaw>(
        `SELECT instance, role, host, pid, started_ms, beat_ms, interval_ms, state, detail, ${NOW_MS} AS now_ms
         FROM process_heartbeats ${opts.role ? 'WHERE role = $2' : ''} ORDER BY beat_ms DESC LIMIT $1`,
        args,
      );
      return r.rows.map(fromBeatRaw);
    },
    async ping() {
      await q('SELECT 1', []);
    },
  };
}
