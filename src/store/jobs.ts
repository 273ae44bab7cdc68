import type { Awaitable, Backend } from './backend.ts';
import type { DB } from './db.ts';

// The scheduler's tables (migration "job_runs + scheduler_heartbeats"):
// one job_runs row per job × scheduled occurrence — UNIQUE, so it is also the
// proof that an occurrence was handled — and one heartbeat row per daemon.

export const RUN_OUTCOMES = ['running', 'ok', 'failed', 'skipped'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];
/** schedule: on time; catch-up: missed while down, run on start; run: `broadsheet run`; manual: a job without cron, or --force. */
export type RunTrigger = 'schedule' | 'catch-up' | 'run' | 'manual';

export interface JobRunRow {
  id: number;
  job: string;
  kind: string;
  /** ISO 8601 UTC instant of the scheduled occurrence; null for a manual run. */
  occurrence: string | null;
  trigger: RunTrigger;
  outcome: RunOutcome;
  attempts: number;
  pid: number | null;
  host: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  edition: string | null;
  counts: Record<string, number> | null;
  summary: string | null;
  error: string | null;
}

export const COLUMNS = `id, job, kind, occurrence, trigger, outcome, attempts, pid, host, started_at AS startedAt,
  finished_at AS finishedAt, edition, counts, summary, error`;

export type RawRow = Omit<JobRunRow, 'counts'> & { counts: string | null };
export const fromRaw = (r: RawRow): JobRunRow => ({ ...r, counts: r.counts ? JSON.parse(r.counts) : null });

export function getRun(db: DB, job: string, occurrence: string): JobRunRow | undefined {
  const r = db
    .prepare(`SELECT ${COLUMNS} FROM job_runs WHERE job = ? AND occurrence = ?`)
    .get(job, occurrence);
  return r ? fromRaw(r as RawRow) : undefined;
}

export function getRunById(db: DB, id: number): JobRunRow | undefined {
  const r = db.prepare(`SELECT ${COLUMNS} FROM job_runs WHERE id = ?`).get(id);
  return r ? fromRaw(r as RawRow) : undefined;
}

/** The latest scheduled occurrence that has a row (run, running or skipped). */
export function lastOccurrence(db: DB, job: string): JobRunRow | undefined {
  const r = db
    .prepare(
      `SELECT ${COLUMNS} FROM job_runs WHERE job = ? AND occurrence IS NOT NULL ORDER BY occurrence DESC LIMIT 1`,
    )
    .get(job);
  return r ? fromRaw(r as RawRow) : undefined;
}

export interface StartInput {
  job: string;
  kind: string;
  occurrence: string | null;
  trigger: RunTrigger;
  now: Date;
}

/**
 * Mark an occurrence running (the caller holds its lease). A row left
 * `running` by a process that died is taken over: attempts + 1.
 * Returns the row id, or the existing row when the occurrence is settled.
 */
export function startJobRun(
  db: DB,
  s: StartInput & {
    /** Also take over a row marked failed because its process died (the daemon's catch-up retry). */
    retakeDead?: boolean;
  },
  host: string,
): { id: number } | { settled: JobRunRow } {
  return db
    .transaction((): { id: number } | { settled: JobRunRow } => {
      const now = s.now.toISOString();
      const cur = s.occurrence === null ? undefined : getRun(db, s.job, s.occurrence);
      const dead = cur?.outcome === 'failed' && s.retakeDead && isDeadProcessError(cur.error);
      if (cur && cur.outcome !== 'running' && !dead) return { settled: cur };
      if (cur && dead) {
        db.prepare(
          `UPDATE job_runs SET outcome = 'running', attempts = attempts + 1, trigger = ?, pid = ?, host = ?,
             started_at = ?, finished_at = NULL, error = NULL WHERE id = ?`,
        ).run(s.trigger, process.pid, host, now, cur.id);
        return { id: cur.id };
      }
      if (cur) {
        db.prepare(
          `UPDATE job_runs SET attempts = attempts + 1, trigger = ?, pid = ?, host = ?, started_at = ?,
             error = NULL WHERE id = ?`,
        ).run(s.trigger, process.pid, host, now, cur.id);
        return { id: cur.id };
      }
      const r = db
        .prepare(
          `INSERT INTO job_runs (job, kind, occurrence, trigger, outcome, attempts, pid, host, started_at, created_at)
           VALUES (?, ?, ?, ?, 'running', 1, ?, ?, ?, ?)`,
        )
        .run(s.job, s.kind, s.occurrence, s.trigger, process.pid, host, now, now);
      return { id: Number(r.lastInsertRowid) };
    })
    .immediate();
}

export interface FinishInput {
  outcome: 'ok' | 'failed';
  now: Date;
  edition?: string;
  counts?: Record<string, number>;
  summary?: string;
  error?: string;
}

/**
 * Settle a running row. Only a row still `running` changes: a run already
 * recorded as timed out or interrupted keeps that record even if its job
 * settles later. Returns whether the row changed.
 */
export function finishJobRun(db: DB, id: number, f: FinishInput): boolean {
  return (
    db
      .prepare(
        `UPDATE job_runs SET outcome = ?, finished_at = ?, edition = ?, counts = ?, summary = ?, error = ?
         WHERE id = ? AND outcome = 'running'`,
      )
      .run(
        f.outcome,
        f.now.toISOString(),
        f.edition ?? null,
        f.counts ? JSON.stringify(f.counts) : null,
        f.summary?.slice(0, 2000) ?? null,
        f.error?.slice(0, 2000) ?? null,
        id,
      ).changes > 0
  );
}

/** Record occurrences as skipped, each with why; one that already has a row is left alone. */
export function recordSkipped(
  db: DB,
  s: { job: string; kind: string; trigger: RunTrigger; now: Date },
  items: { occurrence: string; reason: string }[],
): number {
  const now = s.now.toISOString();
  const insert = db.prepare(
    `INSERT INTO job_runs (job, kind, occurrence, trigger, outcome, attempts, finished_at, error, created_at)
     VALUES (?, ?, ?, ?, 'skipped', 0, ?, ?, ?)
     ON CONFLICT (job, occurrence) DO NOTHING`,
  );
  let n = 0;
  db.transaction(() => {
    for (const i of items)
      n += insert.run(s.job, s.kind, i.occurrence, s.trigger, now, i.reason, now).changes;
  }).immediate();
  return n;
}

/** A run whose process stopped before it finished (stop grace exceeded, or found dead). */
export function markInterrupted(db: DB, id: number, reason: string, now: Date): boolean {
  return (
    db
      .prepare(
        "UPDATE job_runs SET outcome = 'failed', finished_at = ?, error = ? WHERE id = ? AND outcome = 'running'",
      )
      .run(now.toISOString(), reason, id).changes > 0
  );
}

/**
 * The error text of a run whose process was found gone (SIGKILL, crash,
 * reboot). The daemon's catch-up may run such an occurrence again; a run
 * that timed out or was stopped by a signal is not retried.
 */
export const deadProcessError = (pid: number | null, host: string | null) =>
  `interrupted: pid ${pid} on ${host} is gone; the run never finished`;
export const isDeadProcessError = (e: string | null) =>
  Boolean(e && /^interrupted: pid \S+ on .* is gone/.test(e));

/** Rows still marked running (their process may be alive or dead: check the lease); one job's, or all. */
export function runningRuns(db: DB, job?: string): JobRunRow[] {
  const rows =
    job === undefined
      ? db.prepare(`SELECT ${COLUMNS} FROM job_runs WHERE outcome = 'running' ORDER BY id`).all()
      : db
          .prepare(`SELECT ${COLUMNS} FROM job_runs WHERE outcome = 'running' AND job = ? ORDER BY id`)
          .all(job);
  return (rows as RawRow[]).map(fromRaw);
}

/** The latest runs of a job, newest first (scheduled by occurrence, manual by start). */
export function recentRuns(db: DB, job: string, limit: number): JobRunRow[] {
  return (
    db
      .prepare(
        `SELECT ${COLUMNS} FROM job_runs WHERE job = ? ORDER BY COALESCE(occurrence, started_at) DESC, id DESC LIMIT ?`,
      )
      .all(job, limit) as RawRow[]
  ).map(fromRaw);
}

export function hasTable(db: DB, name: string): boolean {
  return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name));
}

// Heartbeats.

export interface HeartbeatRow {
  instance: string;
  pid: number;
  host: string;
  startedAt: string;
  beatAt: string;
  intervalMs: number;
  state: 'running' | 'stopping' | 'stopped';
  jobs: string[];
  running: { job: string; occurrence: string | null }[];
}

export function beginHeartbeat(
  db: DB,
  h: { instance: string; host: string; intervalMs: number; jobs: string[]; now: Date },
) {
  const now = h.now.toISOString();
  db.transaction(() => {
    // Keep a week of daemons for `status`: one silent for a week (stopped, or
    // killed without a word) is gone from the list; live ones beat and stay.
    const week = new Date(h.now.getTime() - 7 * 86_400_000).toISOString();
    db.prepare('DELETE FROM scheduler_heartbeats WHERE beat_at < ?').run(week);
    db.prepare(
      `INSERT INTO scheduler_heartbeats (instance, pid, host, started_at, beat_at, interval_ms, state, jobs, running)
       VALUES (?, ?, ?, ?, ?, ?, 'running', ?, '[]')`,
    ).run(h.instance, process.pid, h.host, now, now, h.intervalMs, JSON.stringify(h.jobs));
  })();
}

export function beat(
  db: DB,
  instance: string,
  state: HeartbeatRow['state'],
  running: HeartbeatRow['running'],
  now: Date,
) {
  db.prepare('UPDATE scheduler_heartbeats SET beat_at = ?, state = ?, running = ? WHERE instance = ?').run(
    now.toISOString(),
    state,
    JSON.stringify(running),
    instance,
  );
}

export function heartbeats(db: DB, limit = 10): HeartbeatRow[] {
  const rows = db
    .prepare(
      `SELECT instance, pid, host, started_at AS startedAt, beat_at AS beatAt, interval_ms AS intervalMs, state, jobs, running
       FROM scheduler_heartbeats ORDER BY beat_at DESC LIMIT ?`,
    )
    .all(limit) as (Omit<HeartbeatRow, 'jobs' | 'running'> & { jobs: string; running: string })[];
  return rows.map((r) => ({ ...r, jobs: JSON.parse(r.jobs), running: JSON.parse(r.running) }));
}

/** Per-edition counts from the send ledger (empty when the store has no sends table yet). */
export type SendCount = {
  edition: string;
  total: number;
  byState: Record<string, number>;
  topicVariants?: number;
};

export function sendCounts(db: DB, limit = 20): SendCount[] {
  if (!hasTable(db, 'sends')) return [];
  const rows = db
    .prepare(
      `SELECT edition, state, count(*) AS n FROM sends
       WHERE edition IN (SELECT edition FROM sends GROUP BY edition ORDER BY max(updated_at) DESC LIMIT ?)
       GROUP BY edition, state`,
    )
    .all(limit) as { edition: string; state: string; n: number }[];
  const out = new Map<string, { edition: string; total: number; byState: Record<string, number> }>();
  for (const r of rows) {
    const e = out.get(r.edition) ?? { edition: r.edition, total: 0, byState: {} };
    e.byState[r.state] = r.n;
    e.total += r.n;
    out.set(r.edition, e);
  }
  // Readers' topic variants the latest send of each edition compiled (issue 14, src/delivery/topics.ts).
  const last = hasTable(db, 'runs')
    ? db.prepare(
        "SELECT summary FROM runs WHERE kind = 'send' AND edition = ? AND summary IS NOT NULL ORDER BY id DESC LIMIT 1",
      )
    : undefined;
  for (const e of out.values()) {
    const row = last?.get(e.edition) as { summary: string } | undefined;
    const n = row ? (JSON.parse(row.summary) as { topicVariants?: number }).topicVariants : undefined;
    if (n) Object.assign(e, { topicVariants: n });
  }
  return [...out.values()].sort((a, b) => b.edition.localeCompare(a.edition));
}

/** When a daemon that scheduled `job` was last seen alive (other than `except`), if ever. */
export function lastBeatFor(db: DB, job: string, except: string): number | undefined {
  const rows = db
    .prepare(
      'SELECT beat_at AS beatAt, jobs FROM scheduler_heartbeats WHERE instance != ? ORDER BY beat_at DESC LIMIT 50',
    )
    .all(except) as { beatAt: string; jobs: string }[];
  const hit = rows.find((r) => (JSON.parse(r.jobs) as string[]).includes(job));
  return hit ? Date.parse(hit.beatAt) : undefined;
}

// The job_runs store behind one interface (issue 17): the SQLite functions
// above (synchronous, unchanged) and src/store/pg/jobs.ts. Callers `await`.
export interface JobRunStore {
  getRun(job: string, occurrence: string): Awaitable<JobRunRow | undefined>;
  getRunById(id: number): Awaitable<JobRunRow | undefined>;
  lastOccurrence(job: string): Awaitable<JobRunRow | undefined>;
  startJobRun(
    s: StartInput & { retakeDead?: boolean },
    host: string,
  ): Awaitable<{ id: number } | { settled: JobRunRow }>;
  finishJobRun(id: number, f: FinishInput): Awaitable<boolean>;
  recordSkipped(
    s: { job: string; kind: string; trigger: RunTrigger; now: Date },
    items: { occurrence: string; reason: string }[],
  ): Awaitable<number>;
  markInterrupted(id: number, reason: string, now: Date): Awaitable<boolean>;
  runningRuns(job?: string): Awaitable<JobRunRow[]>;
  recentRuns(job: string, limit: number): Awaitable<JobRunRow[]>;
  /** Per-edition counts from the send ledger. */
  sendCounts(limit?: number): Awaitable<SendCount[]>;
}

export function sqliteJobRuns(db: DB): JobRunStore {
  return {
    getRun: (job, occurrence) => getRun(db, job, occurrence),
    getRunById: (id) => getRunById(db, id),
    lastOccurrence: (job) => lastOccurrence(db, job),
    startJobRun: (s, host) => startJobRun(db, s, host),
    finishJobRun: (id, f) => finishJobRun(db, id, f),
    recordSkipped: (s, items) => recordSkipped(db, s, items),
    markInterrupted: (id, reason, now) => markInterrupted(db, id, reason, now),
    runningRuns: (job) => runningRuns(db, job),
    recentRuns: (job, limit) => recentRuns(db, job, limit),
    sendCounts: (limit) => sendCounts(db, limit),
  };
}

/** The job_runs store of an open backend (PostgreSQL's module imported on use). */
export async function jobRunsFor(b: Backend): Promise<JobRunStore> {
  if (b.kind === 'sqlite') return sqliteJobRuns(b.db);
  const { pgJobRuns } = await import('./pg/jobs.ts');
  return pgJobRuns(b.pool, b.url);
}
