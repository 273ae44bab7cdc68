// `broadsheet run <job>`: the occurrence it stands for, then execute.ts.
//
// A job with a cron runs its latest occurrence at or before now — what a
// system crontab line with the same schedule means — under the same lease and
// run record as the daemon: if the daemon (or another `run`) is running it,
// "already running", exit 0; if it already ran, nothing to do, exit 0; if it
// is older than catchUp and never ran, it is recorded as skipped (a
// long-overdue digest is never sent by accident). A job without a cron, or
// --force, is a manual run: it always runs, once at a time per job. While an
// earlier occurrence of the job is still running, the one `run` stands for is
// recorded skipped (exit 0). A run past the job's time limit ends JOB_TIMEOUT,
// exit 1.
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { JobResult } from '../jobs/run.ts';
import type { JobRunRow } from '../store/jobs.ts';
import { type Job, jobZone } from './config.ts';
import { formatDuration } from './duration.ts';
import {
  type Active,
  describeOccurrence,
  type ExecEnv,
  isoOf,
  reposOf,
  runOccurrence,
  skipOccurrences,
} from './execute.ts';
import { previousOccurrence, scheduleOf } from './occurrences.ts';

export interface OneShot {
  code: number;
  text?: string;
  json: unknown;
  /** The job threw: the CLI prints the chain and exits with the error's code. */
  error?: unknown;
  /** The job was stopped (time limit) before its promise settled: the CLI must exit rather than wait for it. */
  abandoned?: boolean;
}

const errorJson = (e: unknown) =>
  e instanceof BroadsheetError
    ? { code: e.code, message: e.message, hint: e.hint }
    : { message: (e as Error)?.message ?? String(e) };

const runJson = (r: JobRunRow) => ({
  id: r.id,
  occurrence: r.occurrence,
  trigger: r.trigger,
  outcome: r.outcome,
  attempts: r.attempts,
  startedAt: r.startedAt,
  finishedAt: r.finishedAt,
  error: r.error,
});

export async function runOne(
  env: ExecEnv & { ctx: Context },
  job: Job,
  opts: { force?: boolean; onStart?: (a: Active) => void; onEnd?: (a: Active) => void } = {},
): Promise<OneShot> {
  const { ctx } = env;
  const log = ctx.logger.child({ job: job.name });
  const now = ctx.clock.now().getTime();
  const at =
    job.cron && !opts.force
      ? previousOccurrence(scheduleOf(job.cron, jobZone(job, ctx.config)), now)
      : undefined;
  const occurrence = at === undefined ? null : isoOf(at);
  const local = describeOccurrence(ctx, job, occurrence);

  const { runs } = await reposOf(env);
  if (at !== undefined && now - at > job.catchUp && !(await runs.getRun(job.name, occurrence!))) {
    const reason = `missed by ${formatDuration(Math.round((now - at) / 1000) * 1000)}, more than the catch-up window of ${formatDuration(job.catchUp)}`;
    await skipOccurrences(env, job, [{ at, reason }], 'run');
    log.warn(
      `${job.name}: skipped ${local}: ${reason}; \`broadsheet run ${job.name} --force\` runs it now anyway`,
    );
    const row = await runs.getRun(job.name, occurrence!);
    return {
      code: 0,
      json: { job: job.name, status: 'skipped', occurrence, reason, run: row && runJson(row) },
    };
  }

  const r = await runOccurrence(env, job, at ?? null, at === undefined ? 'manual' : 'run', {
    onStart: opts.onStart,
    onEnd: opts.onEnd,
  });
  if (r.state === 'held') {
    log.warn(
      { holder: r.holder },
      `${job.name}: already running (${local}) in pid ${r.holder.pid} on ${r.holder.host}; nothing to do`,
    );
    return {
      code: 0,
      json: { job: job.name, status: 'already-running', occurrence, holder: r.holder },
    };
  }
  if (r.state === 'settled') {
    log.info(
      `${job.name}: ${local} already ran (${r.row.outcome}${r.row.finishedAt ? ` at ${r.row.finishedAt}` : ''}); nothing to do — \`--force\` runs it again`,
    );
    return { code: 0, json: { job: job.name, status: 'already-done', occurrence, run: runJson(r.row) } };
  }
  if (r.state === 'skipped')
    return {
      code: 0,
      json: { job: job.name, status: 'skipped', occurrence, reason: r.reason, run: r.row && runJson(r.row) },
    };
  if (r.error !== undefined)
    return {
      code: 1,
      json: { job: job.name, status: 'ran', occurrence, run: runJson(r.row), error: errorJson(r.error) },
      error: r.error,
      abandoned: r.abandoned,
    };
  const result = r.result as JobResult;
  return {
    code: result.ok ? 0 : 1,
    text: result.summary,
    json: { ...result, status: 'ran', occurrence, run: runJson(r.row) },
  };
}
