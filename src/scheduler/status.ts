// What `broadsheet status` reports: per job the next occurrence and the last
// runs, per edition the send counts, and the daemons' heartbeats. The JSON
// form is a contract for monitors (README § Operations).
//
// Two things status settles rather than repeats: a run left `running` by a
// process that is gone is recorded failed (interrupted) first, and a daemon
// whose heartbeat is older than STALE_BEATS intervals is shown `stale`, with
// nothing running — a SIGKILLed daemon's last beat is not the truth.
//
// Issue 17: on a PostgreSQL store (status-pg.ts) the same report, with ages by
// the database's clock; on both, `processes` lists every host's daemons,
// workers and serve replicas from process_heartbeats. A SQLite status never
// loads pg (status-pg.ts is imported only for a postgres:// store).
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { type Context, isPgUrl } from '../context.ts';
import { type ProcessBeat, sqliteHeartbeats } from '../ops/heartbeat-store.ts';
import type { Awaitable } from '../store/backend.ts';
import { openStore } from '../store/db.ts';
import {
  hasTable,
  heartbeats,
  type JobRunRow,
  recentRuns,
  runningRuns,
  type SendCount,
  sendCounts,
} from '../store/jobs.ts';
import { formatLocal } from '../util/zoned.ts';
import type { Job } from './config.ts';
import { formatDuration } from './duration.ts';
import { reapDeadRuns } from './execute.ts';
import { jobTimeout, jobZone } from './job-defaults.ts';
import { nextOccurrence, scheduleOf } from './occurrences.ts';

/** A daemon is stale when it has not beaten for this many of its intervals. */
export const STALE_BEATS = 3;

export interface RunReport {
  id: number;
  occurrence: string | null;
  occurrenceLocal: string | null;
  trigger: string;
  outcome: string;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  edition: string | null;
  counts: Record<string, number> | null;
  error: string | null;
  pid: number | null;
  host: string | null;
}

/** One process of any host (process_heartbeats): a daemon, a worker or a serve replica. */
export interface ProcessReport extends Omit<ProcessBeat, 'detail'> {
  /** Beat within ops.staleBeats of its intervals and not stopped. */
  alive: boolean;
  /** Not stopped, yet silent for more than ops.staleBeats intervals: killed, hung, or its host is down. */
  stale: boolean;
  detail: Record<string, unknown> | null;
}

export interface StatusReport {
  generatedAt: string;
  store: { path: string; exists: boolean; kind: 'sqlite' | 'postgres' };
  /** Every host's daemons, workers and serve processes, latest beat first (a week of history). */
  processes: ProcessReport[];
  /** Per host: how many processes are alive, stale, stopped. */
  hosts: { host: string; alive: number; stale: number; stopped: number; roles: string[] }[];
  scheduler: {
    /** A daemon beat within STALE_BEATS of its intervals. */
    alive: boolean;
    /** No daemon is alive and the latest one never said it stopped: it has not beaten for STALE_BEATS intervals (killed, hung, host down). */
    stale: boolean;
    instances: {
      instance: string;
      pid: number;
      host: string;
      state: string;
      startedAt: string;
      beatAt: string;
      ageMs: number;
      intervalMs: number;
      alive: boolean;
      stale: boolean;
      /** What it runs now; empty when stale or stopped, whatever its last beat said. */
      running: { job: string; occurrence: string | null }[];
    }[];
  };
  /** Runs this status call found left `running` by a process that is gone, and recorded failed. */
  reaped: { job: string; occurrence: string | null; pid: number | null; host: string | null }[];
  jobs: {
    name: string;
    kind: string;
    edition: string | null;
    cron: string | null;
    timezone: string;
    catchUp: string;
    /** The time limit (jobs[].timeout, or the kind's default). */
    timeout: string;
    next: { at: string; local: string } | null;
    last: RunReport | null;
    runs: RunReport[];
  }[];
  /** Per edition, from the sends table; `inDoubt`: rows left `committed` (handed to the server, outcome unconfirmed). */
  sends: (SendCount & { inDoubt: number })[];
}

function report(r: JobRunRow, tz: string): RunReport {
  const d = r.startedAt && r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.startedAt) : null;
  return {
    id: r.id,
    occurrence: r.occurrence,
    occurrenceLocal: r.occurrence ? formatLocal(Date.parse(r.occurrence), tz) : null,
    trigger: r.trigger,
    outcome: r.outcome,
    attempts: r.attempts,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: d,
    edition: r.edition,
    counts: r.counts,
    error: r.error,
    pid: r.pid,
    host: r.host,
  };
}

/** What status says of a run it recorded failed because its process is gone. */
export const reapedOf = (r: JobRunRow): StatusReport['reaped'][number] => ({
  job: r.job,
  occurrence: r.occurrence,
  pid: r.pid,
  host: r.host,
});

/**
 * Record runs whose process is gone as failed, through a short-lived
 * read-write connection (status itself reads read-only and never migrates).
 * A store status may not write to (read-only file) is reported as it is.
 */
async function reap(ctx: Context, file: string): Promise<StatusReport['reaped']> {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    if (!hasTable(db, 'job_runs') || !hasTable(db, 'leases') || !runningRuns(db).length) return [];
    return (await reapDeadRuns(db, () => ctx.clock.now().getTime(), ctx.clock.now())).map(reapedOf);
  } catch (err) {
    ctx.logger.debug({ err }, 'status: could not record dead runs as failed');
    return [];
  } finally {
    db?.close();
  }
}

/** Status of either store: the SQLite file here, PostgreSQL in status-pg.ts. */
export async function collectStatus(ctx: Context, opts: { runs?: number } = {}): Promise<StatusReport> {
  if (isPgUrl(ctx.paths.store)) {
    const { collectPgStatus } = await import('./status-pg.ts');
    return collectPgStatus(ctx, opts);
  }
  return collectSqliteStatus(ctx, opts);
}

export function processReports(beats: ProcessBeat[], staleBeats: number): ProcessReport[] {
  return beats.map((b) => {
    const stale = b.state !== 'stopped' && b.ageMs > staleBeats * b.intervalMs;
    return { ...b, alive: b.state !== 'stopped' && !stale, stale };
  });
}

export function hostSummary(ps: ProcessReport[]): StatusReport['hosts'] {
  const by = new Map<string, StatusReport['hosts'][number]>();
  for (const p of ps) {
    const h = by.get(p.host) ?? { host: p.host, alive: 0, stale: 0, stopped: 0, roles: [] };
    if (p.alive) h.alive++;
    else if (p.stale) h.stale++;
    else h.stopped++;
    if (p.alive && !h.roles.includes(p.role)) h.roles.push(p.role);
    by.set(p.host, h);
  }
  return [...by.values()].sort((a, b) => a.host.localeCompare(b.host));
}

/** Each configured job: next occurrence and its latest runs (`recent` reads them from either store). */
export async function jobReports(
  ctx: Context,
  now: Date,
  runs: number,
  recent: ((job: string, limit: number) => Awaitable<JobRunRow[]>) | undefined,
): Promise<StatusReport['jobs']> {
  const out: StatusReport['jobs'] = [];
  for (const job of ctx.config.jobs as Job[]) {
    const tz = jobZone(job, ctx.config);
    const next = job.cron ? nextOccurrence(scheduleOf(job.cron, tz), now.getTime()) : undefined;
    const rows = recent ? (await recent(job.name, runs)).map((r) => report(r, tz)) : [];
    out.push({
      name: job.name,
      kind: job.kind,
      edition: job.edition ?? null,
      cron: job.cron ?? null,
      timezone: tz,
      catchUp: formatDuration(job.catchUp),
      timeout: formatDuration(jobTimeout(job)),
      next: next === undefined ? null : { at: new Date(next).toISOString(), local: formatLocal(next, tz) },
      last: rows[0] ?? null,
      runs: rows,
    });
  }
  return out;
}

/** The daemons' summary: alive when one is; stale when none is and the latest never said it stopped. */
export function schedulerOf(instances: StatusReport['scheduler']['instances']): StatusReport['scheduler'] {
  return {
    alive: instances.some((i) => i.alive),
    // The scheduler died (rather than was stopped): nobody is alive and the
    // latest daemon never said it stopped. Older dead instances stay listed.
    stale: !instances.some((i) => i.alive) && Boolean(instances[0]?.stale),
    instances,
  };
}

export const withInDoubt = (s: SendCount[]): StatusReport['sends'] =>
  s.map((e) => ({ ...e, inDoubt: e.byState.committed ?? 0 }));

async function collectSqliteStatus(ctx: Context, opts: { runs?: number }): Promise<StatusReport> {
  const now = ctx.clock.now();
  const exists = existsSync(ctx.paths.store);
  const reaped = exists ? await reap(ctx, ctx.paths.store) : [];
  const db = exists ? openStore(ctx.paths.store, { readonly: true }) : undefined;
  try {
    const hasRuns = db ? hasTable(db, 'job_runs') : false;
    const beats = db && hasTable(db, 'scheduler_heartbeats') ? heartbeats(db) : [];
    const instances = beats.map((b) => {
      const ageMs = now.getTime() - Date.parse(b.beatAt);
      const stale = b.state !== 'stopped' && ageMs > STALE_BEATS * b.intervalMs;
      const alive = b.state !== 'stopped' && !stale;
      return { ...b, ageMs, alive, stale, running: alive ? b.running : [] };
    });
    const jobs = await jobReports(
      ctx,
      now,
      opts.runs ?? 5,
      db && hasRuns ? (job, limit) => recentRuns(db, job, limit) : undefined,
    );
    const processes =
      db && hasTable(db, 'process_heartbeats')
        ? processReports(
            await sqliteHeartbeats(db, () => now.getTime()).list({ limit: 200 }),
            ctx.config.ops.staleBeats,
          )
        : [];
    return {
      generatedAt: now.toISOString(),
      store: { path: ctx.paths.store, exists, kind: 'sqlite' },
      processes,
      hosts: hostSummary(processes),
      scheduler: schedulerOf(instances),
      reaped,
      jobs,
      sends: db ? withInDoubt(sendCounts(db)) : [],
    };
  } finally {
    db?.close();
  }
}

const ago = (ms: number) => `${formatDuration(Math.max(0, Math.round(ms / 1000)) * 1000)} ago`;

/** The human form: one block per job, then sends and daemons. */
export function formatStatus(s: StatusReport): string {
  const now = Date.parse(s.generatedAt);
  const out: string[] = [];
  for (const j of s.jobs) {
    out.push(
      `${j.name} (${j.kind}${j.edition ? ` ${j.edition}` : ''}) ${j.cron ? `cron "${j.cron}" ${j.timezone}, catchUp ${j.catchUp}` : 'no cron: runs by `broadsheet run`'}, timeout ${j.timeout}`,
    );
    if (j.next) out.push(`  next   ${j.next.local}`);
    if (!j.runs.length) out.push('  runs   none recorded');
    for (const r of j.runs) {
      const when = r.occurrenceLocal ?? `manual ${r.startedAt}`;
      const took = r.durationMs === null ? '' : ` in ${(r.durationMs / 1000).toFixed(1)}s`;
      const counts = r.counts
        ? ` ${Object.entries(r.counts)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`
        : '';
      out.push(
        `  ${r.outcome.padEnd(8)} ${when} (${r.trigger})${took}${counts}${r.error ? ` — ${r.error}` : ''}`,
      );
    }
  }
  out.push('sends per edition:');
  if (!s.sends.length) out.push('  none');
  for (const e of s.sends)
    out.push(
      `  ${e.edition}: ${Object.entries(e.byState)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )} (total ${e.total}${e.topicVariants ? `; ${e.topicVariants} topic variant(s)` : ''}${e.inDoubt ? `; ${e.inDoubt} committed = in doubt, counted delivered, never resent` : ''})`,
    );
  out.push(
    `scheduler: ${s.scheduler.alive ? 'running' : 'not running'}${s.scheduler.stale && !s.scheduler.alive ? ' (a daemon’s heartbeat is stale: see below)' : ''}`,
  );
  for (const i of s.scheduler.instances.slice(0, 5))
    out.push(
      i.stale
        ? `  pid ${i.pid} on ${i.host}: STALE — last beat ${ago(now - Date.parse(i.beatAt))}, more than ${STALE_BEATS}× its ${formatDuration(i.intervalMs)} interval; presumed dead (killed, hung or host down), none of its jobs counts as running`
        : `  pid ${i.pid} on ${i.host}: ${i.state}, last beat ${ago(now - Date.parse(i.beatAt))}` +
            (i.running.length ? `, running ${i.running.map((r) => r.job).join(', ')}` : ''),
    );
  for (const r of s.reaped)
    out.push(
      `recorded failed (interrupted): ${r.job} ${r.occurrence ?? 'manual run'} was left running by pid ${r.pid} on ${r.host}, which is gone`,
    );
  if (s.processes.length) {
    out.push('processes on every host:');
    for (const p of s.processes.slice(0, 50)) {
      const what = p.stale
        ? `STALE — last beat ${ago(p.ageMs)}, more than ${STALE_BEATS}× its ${formatDuration(p.intervalMs)} interval; presumed dead`
        : `${p.state}, last beat ${ago(p.ageMs)}`;
      out.push(`  ${p.host} ${p.role.padEnd(6)} pid ${String(p.pid).padEnd(7)} ${what}`);
    }
    if (s.processes.length > 50) out.push(`  … ${s.processes.length - 50} more (--json lists them all)`);
  }
  if (!s.store.exists)
    out.push(
      s.store.kind === 'postgres'
        ? `store ${s.store.path} has no schema yet (run \`broadsheet migrate\`)`
        : `store ${s.store.path} does not exist yet`,
    );
  return out.join('\n');
}
