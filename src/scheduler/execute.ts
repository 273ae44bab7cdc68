// One occurrence of one job, under its lease, with its run record and its
// time limit. Shared by the daemon and `broadsheet run`, so both agree on what
// "already ran" means.
//
// The order that makes an occurrence run once across processes and hosts:
//   1. take the lease `job:<name>@<occurrence>` (one IMMEDIATE transaction;
//      refused while another live process holds it → "already running");
//   2. holding it, look at the run row: settled (ok, failed, skipped) → done,
//      nothing runs; absent → insert `running`; `running` but its lease was
//      free → the process that ran it died: take over (attempts + 1);
//      while an earlier occurrence of the job is still running anywhere, this
//      one is recorded `skipped` with that reason instead (no overlap);
//   3. run, renewing the lease every ttl/3, until the job settles, its time
//      limit passes (abort, short wind-down, record JOB_TIMEOUT) or a stop
//      interrupts it; write the outcome; release.
// A killed process's lease is free at once on the same host (its pid is gone)
// and after the ttl elsewhere.
import { hostname } from 'node:os';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { JobResult } from '../jobs/run.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import {
  deadProcessError,
  type JobRunRow,
  type JobRunStore,
  jobRunsFor,
  type RunTrigger,
  sqliteJobRuns,
} from '../store/jobs.ts';
import {
  isStoreLease,
  type LeaseHolder,
  type LeaseStore,
  leaseFor,
  type StoreLease,
  sqliteLeases,
} from '../store/lease.ts';
import { formatLocal } from '../util/zoned.ts';
import type { Job } from './config.ts';
import { formatDuration } from './duration.ts';
import { jobTimeout, jobZone } from './job-defaults.ts';
import { delay, seconds, settle, settlesWithin, windDownMs } from './limit.ts';

/** What a job gets besides its context: `signal` aborts when it must stop (time limit, shutdown). */
export interface JobRunOptions {
  signal: AbortSignal;
}
export type RunJobFn = (ctx: Context, job: Job, opts?: JobRunOptions) => Promise<JobResult>;

/**
 * Where runs are recorded: `db`, a SQLite store (the embedded default, and
 * what tests hand in), or `backend`, either store (issue 17: PostgreSQL shared
 * by several hosts). One of the two.
 */
export interface ExecEnv {
  ctx: Context;
  db?: DB;
  backend?: Backend;
  runJob: RunJobFn;
  leaseTtlMs: number;
}

/** The lease and job_runs stores an ExecEnv stands for. */
export interface Repos {
  leases: LeaseStore;
  runs: JobRunStore;
}

const repos = new WeakMap<ExecEnv, Repos | Promise<Repos>>();

/** The env's stores, made once per env (PostgreSQL's modules imported on first use). */
export function reposOf(env: ExecEnv): Repos | Promise<Repos> {
  let r = repos.get(env);
  if (r) return r;
  const b = env.backend;
  if (b?.kind === 'postgres')
    r = Promise.all([leaseFor(b), jobRunsFor(b)]).then(([leases, runs]) => {
      const done = { leases, runs };
      repos.set(env, done);
      return done;
    });
  else {
    const db = b?.kind === 'sqlite' ? b.db : env.db;
    if (!db) throw new Error('ExecEnv needs a db or a backend');
    r = { leases: sqliteLeases(db, nowFn(env.ctx)), runs: sqliteJobRuns(db) };
  }
  repos.set(env, r);
  return r;
}

/** The env's store as a Backend (heartbeats take one). */
export function backendOf(env: ExecEnv): Backend {
  if (env.backend) return env.backend;
  return { kind: 'sqlite', db: env.db!, file: env.db!.name };
}

export const leaseName = (job: string, occurrence: string | null) => `job:${job}@${occurrence ?? 'manual'}`;
export const isoOf = (ms: number) => new Date(ms).toISOString();

export type Outcome =
  | { state: 'held'; holder: LeaseHolder }
  | { state: 'settled'; row: JobRunRow }
  | { state: 'skipped'; row: JobRunRow | undefined; reason: string }
  | {
      state: 'ran';
      row: JobRunRow;
      result?: JobResult;
      error?: unknown;
      /** The job was stopped (timeout, interrupt) and its promise had not settled: it may still hold sockets. */
      abandoned?: boolean;
    };

/** An occurrence being run: what a graceful stop needs to finish or interrupt it. */
export interface Active {
  job: string;
  occurrence: string | null;
  runId: number;
  lease: StoreLease;
  /** performance.now() when the run started (real time, whatever the context's clock says). */
  startedAt: number;
  /**
   * End the run now: abort its signal, record it failed with the text
   * `reason` returns for the real elapsed time, release its lease.
   */
  interrupt(reason: (elapsedMs: number) => string): void;
}

const nowFn = (ctx: Context) => () => ctx.clock.now().getTime();

export function describeOccurrence(ctx: Context, job: Job, occurrence: string | null): string {
  return occurrence ? formatLocal(Date.parse(occurrence), jobZone(job, ctx.config)) : 'manual run';
}

/** An earlier occurrence of this job that a live process is still running, if any. */
async function stillRunning(r: Repos, job: Job, occurrence: string) {
  for (const row of await r.runs.runningRuns(job.name)) {
    if (row.occurrence === occurrence) continue;
    const holder = await r.leases.liveHolder(leaseName(row.job, row.occurrence));
    if (holder) return { row, holder };
  }
  return undefined;
}

type Cut = { kind: 'timeout' } | { kind: 'interrupt'; reason: (elapsedMs: number) => string };

/**
 * Run one occurrence (`at` in ms; null for a manual run) unless another
 * process is running it, it is already settled, or an earlier occurrence of
 * the job is still running (then it is recorded skipped).
 */
export async function runOccurrence(
  env: ExecEnv,
  job: Job,
  at: number | null,
  trigger: RunTrigger,
  hooks: { onStart?: (a: Active) => void; onEnd?: (a: Active) => void; retakeDead?: boolean } = {},
): Promise<Outcome> {
  const { ctx } = env;
  const r = await reposOf(env);
  const occurrence = at === null ? null : isoOf(at);
  const lease = await r.leases.acquire(leaseName(job.name, occurrence), env.leaseTtlMs);
  if (!isStoreLease(lease)) return { state: 'held', holder: lease };
  const host = hostname();
  const local = describeOccurrence(ctx, job, occurrence);
  let active: Active | undefined;
  let renew: NodeJS.Timeout | undefined;
  try {
    const existing = occurrence === null ? undefined : await r.runs.getRun(job.name, occurrence);
    const open = !existing || existing.outcome === 'running' || hooks.retakeDead;
    const busy = occurrence !== null && open ? await stillRunning(r, job, occurrence) : undefined;
    if (busy) {
      const reason = `previous occurrence ${describeOccurrence(ctx, job, busy.row.occurrence)} still running (pid ${busy.holder.pid} on ${busy.holder.host})`;
      await r.runs.recordSkipped({ job: job.name, kind: job.kind, trigger, now: ctx.clock.now() }, [
        { occurrence: occurrence!, reason },
      ]);
      ctx.logger.warn(
        { job: job.name, occurrence, trigger, previous: busy.row.occurrence, pid: busy.holder.pid },
        `${job.name}: skipped ${local}: ${reason}`,
      );
      return { state: 'skipped', row: await r.runs.getRun(job.name, occurrence!), reason };
    }
    const started = await r.runs.startJobRun(
      {
        job: job.name,
        kind: job.kind,
        occurrence,
        trigger,
        now: ctx.clock.now(),
        retakeDead: hooks.retakeDead,
      },
      host,
    );
    if ('settled' in started) return { state: 'settled', row: started.settled };
    const log = ctx.logger.child({ job: job.name, occurrence, trigger, run: started.id });
    const attempt = (await r.runs.getRunById(started.id))?.attempts ?? 1;
    if (attempt > 1)
      log.warn(`${job.name}: ${local} was left unfinished by a process that stopped; running it again`);
    const limit = jobTimeout(job);
    log.info(`${job.name}: running ${local} (${trigger}; time limit ${formatDuration(limit)})`);

    const ac = new AbortController();
    let cut!: (c: Cut) => void;
    const cutP = new Promise<Cut>((resolve) => {
      cut = resolve;
    });
    const t0 = performance.now();
    active = {
      job: job.name,
      occurrence,
      runId: started.id,
      lease,
      startedAt: t0,
      interrupt: (reason) => cut({ kind: 'interrupt', reason }),
    };
    hooks.onStart?.(active);
    renew = setInterval(
      () => {
        void Promise.resolve()
          .then(() => lease.renew())
          .then(
            (ok) => {
              if (!ok) log.error(`${job.name}: lost the lease for ${local}; another process may run it too`);
            },
            (err) => log.error({ err }, `${job.name}: renewing the lease for ${local} failed`),
          );
      },
      Math.max(250, Math.floor(env.leaseTtlMs / 3)),
    );
    const work = settle(() => env.runJob(ctx, job, { signal: ac.signal }));
    const timer = delay(limit, { kind: 'timeout' } as Cut);
    const first = await Promise.race([work, cutP, timer.promise]);
    timer.cancel();
    const ms = () => Math.round(performance.now() - t0);

    if ('kind' in first) {
      // Stopped from outside: tell the job, let it wind down briefly on a timeout, record, go on.
      if (first.kind === 'interrupt') {
        ac.abort(
          new BroadsheetError('JOB_INTERRUPTED', { job: job.name, detail: 'stopped by the scheduler' }),
        );
        const reason = first.reason(ms());
        await r.runs.markInterrupted(started.id, reason, ctx.clock.now());
        log.error(`${job.name}: ${local} ${reason}`);
        const error = new BroadsheetError('JOB_INTERRUPTED', { job: job.name, detail: reason });
        return { state: 'ran', row: (await r.runs.getRunById(started.id))!, error, abandoned: true };
      }
      const wind = windDownMs(limit);
      log.warn(
        `${job.name}: ${local} is past its time limit of ${formatDuration(limit)}; stopping it (up to ${formatDuration(wind)} to wind down)`,
      );
      ac.abort(
        new BroadsheetError('JOB_TIMEOUT', {
          job: job.name,
          elapsed: seconds(ms()),
          limit: formatDuration(limit),
          abandoned: false,
        }),
      );
      const stopped = await settlesWithin(work, wind);
      const error = new BroadsheetError('JOB_TIMEOUT', {
        job: job.name,
        elapsed: seconds(ms()),
        limit: formatDuration(limit),
        abandoned: !stopped,
      });
      await r.runs.finishJobRun(started.id, {
        outcome: 'failed',
        now: ctx.clock.now(),
        error: `JOB_TIMEOUT: ${error.message}`,
      });
      log.error(
        { code: error.code, ms: ms(), limitMs: limit, stopped },
        `${job.name}: ${local} failed: ${error.message.slice(job.name.length + 2)}`,
      );
      return { state: 'ran', row: (await r.runs.getRunById(started.id))!, error, abandoned: !stopped };
    }

    if ('result' in first) {
      const result = first.result;
      await r.runs.finishJobRun(started.id, {
        outcome: result.ok ? 'ok' : 'failed',
        now: ctx.clock.now(),
        edition: result.edition,
        counts: result.counts,
        summary: result.summary,
        error: result.ok ? undefined : 'the job reported failures (see summary)',
      });
      log[result.ok ? 'info' : 'error'](
        { counts: result.counts, ms: ms() },
        `${job.name}: ${local} ${result.ok ? 'ok' : 'failed'}`,
      );
      return { state: 'ran', row: (await r.runs.getRunById(started.id))!, result };
    }
    const error = first.error;
    const code = error instanceof BroadsheetError ? `${error.code}: ` : '';
    await r.runs.finishJobRun(started.id, {
      outcome: 'failed',
      now: ctx.clock.now(),
      error: `${code}${(error as Error)?.message ?? String(error)}`,
    });
    log.error({ err: error, ms: ms() }, `${job.name}: ${local} failed`);
    return { state: 'ran', row: (await r.runs.getRunById(started.id))!, error };
  } finally {
    if (renew) clearInterval(renew);
    if (active) hooks.onEnd?.(active);
    await releaseQuietly(lease, ctx);
  }
}

/** Release a lease; a store that fails now only delays the next taker until the ttl. */
async function releaseQuietly(lease: StoreLease, ctx: Context) {
  try {
    await lease.release();
  } catch (err) {
    ctx.logger.warn(
      { err, lease: lease.name },
      `could not release lease ${lease.name}; it expires on its own`,
    );
  }
}

/**
 * Record occurrences as skipped, each under its lease so that one another
 * process is running right now is left alone. Returns how many were written.
 */
export async function skipOccurrences(
  env: ExecEnv,
  job: Job,
  items: { at: number; reason: string }[],
  trigger: RunTrigger,
): Promise<number> {
  const r = await reposOf(env);
  let n = 0;
  for (const i of items) {
    const occurrence = isoOf(i.at);
    const lease = await r.leases.acquire(leaseName(job.name, occurrence), env.leaseTtlMs);
    if (!isStoreLease(lease)) continue;
    try {
      n += await r.runs.recordSkipped({ job: job.name, kind: job.kind, trigger, now: env.ctx.clock.now() }, [
        { occurrence, reason: i.reason },
      ]);
    } finally {
      await releaseQuietly(lease, env.ctx);
    }
  }
  return n;
}

/**
 * Rows left `running` whose process is gone (its lease is free: the pid is
 * dead on this host, or the lease expired) are marked failed ("interrupted");
 * returns them. Live runs elsewhere are left alone. Used by the daemon on
 * start and by `status`, so nothing stays `running` after its process.
 */
export function reapDeadRuns(
  db: DB,
  now: () => number = Date.now,
  at: Date = new Date(now()),
): Promise<JobRunRow[]> {
  return reapDeadRunsIn({ leases: sqliteLeases(db, now), runs: sqliteJobRuns(db) }, at);
}

/** reapDeadRuns on either store's repositories (the daemon, `status`). */
export async function reapDeadRunsIn(r: Repos, at: Date): Promise<JobRunRow[]> {
  const reaped: JobRunRow[] = [];
  for (const row of await r.runs.runningRuns()) {
    const lease = await r.leases.acquire(leaseName(row.job, row.occurrence), 10_000);
    if (!isStoreLease(lease)) continue;
    try {
      if (await r.runs.markInterrupted(row.id, deadProcessError(row.pid, row.host), at))
        reaped.push((await r.runs.getRunById(row.id))!);
    } finally {
      await lease.release();
    }
  }
  return reaped;
}
