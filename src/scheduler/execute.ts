// One occurrence of one job, under its lease, with its run record. Shared by
// the daemon and `broadsheet run`, so both agree on what "already ran" means.
//
// The order that makes an occurrence run once across processes and hosts:
//   1. take the lease `job:<name>@<occurrence>` (one IMMEDIATE transaction;
//      refused while another live process holds it → "already running");
//   2. holding it, look at the run row: settled (ok, failed, skipped) → done,
//      nothing runs; absent → insert `running`; `running` but its lease was
//      free → the process that ran it died: take over (attempts + 1);
//   3. run, renewing the lease every ttl/3; write the outcome; release.
// A killed process's lease is free at once on the same host (its pid is gone)
// and after the ttl elsewhere.
import { hostname } from 'node:os';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { JobResult } from '../jobs/run.ts';
import type { DB } from '../store/db.ts';
import {
  finishJobRun,
  getRunById,
  type JobRunRow,
  markInterrupted,
  type RunTrigger,
  recordSkipped,
  startJobRun,
} from '../store/jobs.ts';
import { acquireLease, isLease, type Lease, type LeaseHolder } from '../store/lease.ts';
import { formatLocal } from '../util/zoned.ts';
import type { Job } from './config.ts';
import { jobZone } from './config.ts';

export type RunJobFn = (ctx: Context, job: Job) => Promise<JobResult>;

export interface ExecEnv {
  ctx: Context;
  db: DB;
  runJob: RunJobFn;
  leaseTtlMs: number;
}

export const leaseName = (job: string, occurrence: string | null) => `job:${job}@${occurrence ?? 'manual'}`;
export const isoOf = (ms: number) => new Date(ms).toISOString();

export type Outcome =
  | { state: 'held'; holder: LeaseHolder }
  | { state: 'settled'; row: JobRunRow }
  | { state: 'ran'; row: JobRunRow; result?: JobResult; error?: unknown };

/** An occurrence being run: what a graceful stop needs to finish or interrupt it. */
export interface Active {
  job: string;
  occurrence: string | null;
  runId: number;
  lease: Lease;
}

const nowFn = (ctx: Context) => () => ctx.clock.now().getTime();

export function describeOccurrence(ctx: Context, job: Job, occurrence: string | null): string {
  return occurrence ? formatLocal(Date.parse(occurrence), jobZone(job, ctx.config)) : 'manual run';
}

/**
 * Run one occurrence (`at` in ms; null for a manual run) unless another
 * process is running it or it is already settled.
 */
export async function runOccurrence(
  env: ExecEnv,
  job: Job,
  at: number | null,
  trigger: RunTrigger,
  hooks: { onStart?: (a: Active) => void; onEnd?: (a: Active) => void } = {},
): Promise<Outcome> {
  const { ctx, db } = env;
  const occurrence = at === null ? null : isoOf(at);
  const lease = acquireLease(db, leaseName(job.name, occurrence), env.leaseTtlMs, nowFn(ctx));
  if (!isLease(lease)) return { state: 'held', holder: lease };
  const host = hostname();
  let active: Active | undefined;
  let renew: NodeJS.Timeout | undefined;
  try {
    const started = startJobRun(
      db,
      { job: job.name, kind: job.kind, occurrence, trigger, now: ctx.clock.now() },
      host,
    );
    if ('settled' in started) return { state: 'settled', row: started.settled };
    const log = ctx.logger.child({ job: job.name, occurrence, trigger, run: started.id });
    const local = describeOccurrence(ctx, job, occurrence);
    const attempt = getRunById(db, started.id)?.attempts ?? 1;
    if (attempt > 1)
      log.warn(`${job.name}: ${local} was left running by a process that stopped; running it again`);
    log.info(`${job.name}: running ${local} (${trigger})`);
    active = { job: job.name, occurrence, runId: started.id, lease };
    hooks.onStart?.(active);
    renew = setInterval(
      () => {
        if (!lease.renew())
          log.error(`${job.name}: lost the lease for ${local}; another process may run it too`);
      },
      Math.max(250, Math.floor(env.leaseTtlMs / 3)),
    );
    const t0 = Date.now();
    try {
      const result = await env.runJob(ctx, job);
      finishJobRun(db, started.id, {
        outcome: result.ok ? 'ok' : 'failed',
        now: ctx.clock.now(),
        edition: result.edition,
        counts: result.counts,
        summary: result.summary,
        error: result.ok ? undefined : 'the job reported failures (see summary)',
      });
      log[result.ok ? 'info' : 'error'](
        { counts: result.counts, ms: Date.now() - t0 },
        `${job.name}: ${local} ${result.ok ? 'ok' : 'failed'}`,
      );
      return { state: 'ran', row: getRunById(db, started.id)!, result };
    } catch (error) {
      const code = error instanceof BroadsheetError ? `${error.code}: ` : '';
      finishJobRun(db, started.id, {
        outcome: 'failed',
        now: ctx.clock.now(),
        error: `${code}${(error as Error)?.message ?? String(error)}`,
      });
      log.error({ err: error, ms: Date.now() - t0 }, `${job.name}: ${local} failed`);
      return { state: 'ran', row: getRunById(db, started.id)!, error };
    }
  } finally {
    if (renew) clearInterval(renew);
    if (active) hooks.onEnd?.(active);
    lease.release();
  }
}

/**
 * Record occurrences as skipped, each under its lease so that one another
 * process is running right now is left alone. Returns how many were written.
 */
export function skipOccurrences(
  env: ExecEnv,
  job: Job,
  items: { at: number; reason: string }[],
  trigger: RunTrigger,
): number {
  let n = 0;
  for (const i of items) {
    const occurrence = isoOf(i.at);
    const lease = acquireLease(env.db, leaseName(job.name, occurrence), env.leaseTtlMs, nowFn(env.ctx));
    if (!isLease(lease)) continue;
    try {
      n += recordSkipped(env.db, { job: job.name, kind: job.kind, trigger, now: env.ctx.clock.now() }, [
        { occurrence, reason: i.reason },
      ]);
    } finally {
      lease.release();
    }
  }
  return n;
}

/**
 * Rows left `running` whose lease is free: their process died. Those the
 * caller will not run again are marked failed ("interrupted"); returns the rest.
 */
export function reapInterrupted(
  env: ExecEnv,
  rows: JobRunRow[],
  keep: (row: JobRunRow) => boolean,
): JobRunRow[] {
  const kept: JobRunRow[] = [];
  for (const row of rows) {
    const lease = acquireLease(env.db, leaseName(row.job, row.occurrence), env.leaseTtlMs, nowFn(env.ctx));
    if (!isLease(lease)) continue; // alive elsewhere
    try {
      if (keep(row)) kept.push(row);
      else
        markInterrupted(
          env.db,
          row.id,
          `interrupted: pid ${row.pid} on ${row.host} stopped before the run finished`,
          env.ctx.clock.now(),
        );
    } finally {
      lease.release();
    }
  }
  return kept;
}
