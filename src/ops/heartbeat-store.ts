// The process_heartbeats table behind one interface (issue 17): the SQLite
// implementation here (synchronous, the host's clock — one host shares a
// SQLite file), the PostgreSQL one in src/store/pg/heartbeats.ts (the
// database's clock, so hosts whose clocks differ agree on every age).
import type { Awaitable, Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';

export const ROLES = ['daemon', 'worker', 'serve'] as const;
export type Role = (typeof ROLES)[number];
export type BeatState = 'running' | 'stopping' | 'stopped';

/** Heartbeat rows silent for this long are deleted when a process starts (a week of history for `status`). */
export const KEEP_SILENT_MS = 7 * 86_400_000;

export interface ProcessBeat {
  instance: string;
  role: Role;
  host: string;
  pid: number;
  startedAt: string;
  beatAt: string;
  /** Time since the last beat, by the store's clock (the database's on PostgreSQL). */
  ageMs: number;
  intervalMs: number;
  state: BeatState;
  detail: Record<string, unknown> | null;
}

export interface BeginBeat {
  instance: string;
  role: Role;
  host: string;
  pid: number;
  intervalMs: number;
  detail: Record<string, unknown> | null;
}

export interface HeartbeatStore {
  /** Write the process's row (state running) and prune rows silent for a week. */
  begin(b: BeginBeat): Awaitable<void>;
  /** Beat: false when the row is gone (pruned by hand); the caller begins again. */
  beat(instance: string, state: BeatState, detail: Record<string, unknown> | null): Awaitable<boolean>;
  /** Latest beats first; `role` filters. */
  list(opts?: { role?: Role; limit?: number }): Awaitable<ProcessBeat[]>;
  /** Whether the store answers a trivial query (health checks). */
  ping(): Awaitable<void>;
}

export interface BeatRaw {
  instance: string;
  role: Role;
  host: string;
  pid: number;
  started_ms: number;
  beat_ms: number;
  interval_ms: number;
  state: BeatState;
  detail: string | null;
  now_ms: number;
}

export const fromBeatRaw = (r: BeatRaw): ProcessBeat => ({
  instance: r.instance,
  role: r.role,
  host: r.host,
  pid: r.pid,
  startedAt: new Date(r.started_ms).toISOString(),
  beatAt: new Date(r.beat_ms).toISOString(),
  ageMs: Math.max(0, r.now_ms - r.beat_ms),
  intervalMs: r.interval_ms,
  state: r.state,
  detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
});

const json = (d: Record<string, unknown> | null) => (d ? JSON.stringify(d) : null);

export function sqliteHeartbeats(db: DB, now: () => number = Date.now): HeartbeatStore {
  return {
    begin(b) {
      const t = now();
      db.transaction(() => {
        db.prepare('DELETE FROM process_heartbeats WHERE beat_ms < ?').run(t - KEEP_SILENT_MS);
        db.prepare(
          `INSERT OR REPLACE INTO process_heartbeats
             (instance, role, host, pid, started_ms, beat_ms, interval_ms, state, detail)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)`,
        ).run(b.instance, b.role, b.host, b.pid, t, t, b.intervalMs, json(b.detail));
      })();
    },
    beat(instance, state, detail) {
      return (
        db
          .prepare('UPDATE process_heartbeats SET beat_ms = ?, state = ?, detail = ? WHERE instance = ?')
          .run(now(), state, json(detail), instance).changes > 0
      );
    },
    list(opts = {}) {
      const where = opts.role ? 'WHERE role = ?' : '';
      const args: unknown[] = opts.role ? [opts.role] : [];
      const rows = db
        .prepare(
          `SELECT instance, role, host, pid, started_ms, beat_ms, interval_ms, state, detail, ? AS now_ms
           FROM process_heartbeats ${where} ORDER BY beat_ms DESC LIMIT ?`,
        )
        .all(now(), ...args, opts.limit ?? 100) as BeatRaw[];
      return rows.map(fromBeatRaw);
    },
    ping() {
      db.prepare('SELECT 1').get();
    },
  };
}

/**
 * The heartbeat store of an open backend. PostgreSQL's is imported on use, so
 * a command on a SQLite file never loads pg.
 */
export async function heartbeatsFor(b: Backend, now?: () => number): Promise<HeartbeatStore> {
  if (b.kind === 'sqlite') return sqliteHeartbeats(b.db, now);
  const { pgHeartbeats } = await import('../store/pg/heartbeats.ts');
  return pgHeartbeats(b.pool, b.url);
}
