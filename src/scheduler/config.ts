import { z } from 'zod';
import { timeZone } from '../config/zone.ts';
import { CronSyntaxError, parseCron } from './cron.ts';
import { formatDuration, parseDuration } from './duration.ts';

import { DEFAULT_CATCH_UP, JOB_KINDS } from './job-defaults.ts';

// Kinds, default limits, jobZone and jobTimeout live in job-defaults.ts (no zod).
export { DEFAULT_CATCH_UP, DEFAULT_TIMEOUTS, JOB_KINDS, jobTimeout, jobZone } from './job-defaults.ts';

const cronExpression = z.string().superRefine((v, ctx) => {
  try {
    parseCron(v);
  } catch (err) {
    if (!(err instanceof CronSyntaxError)) throw err;
    ctx.addIssue({ code: 'custom', message: `bad cron expression "${v}": ${err.message}` });
  }
});

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (e.g. 2h, 30m, 90s, 0)` });
    return z.NEVER;
  }
  return ms;
});

/** A feed for an `ingest` job: a path or URL, or the same with per-feed section/source. */
const feed = z.union([
  z.string().min(1),
  z.strictObject({ url: z.string().min(1), section: z.string().optional(), source: z.string().optional() }),
]);

const ingestOptions = z.looseObject({ feeds: z.array(feed).default([]) });
const sendOptions = z.looseObject({ transport: z.enum(['outbox', 'smtp', 'json']).optional() });

// One entry of `jobs:` in broadsheet.config.yaml (owned by the scheduler).
// `timezone` left out means the top-level `timezone` (see jobZone).
export const jobSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'lower-case letters, digits, - and _' }),
    kind: z.enum(JOB_KINDS),
    edition: z.string().optional(),
    /** crontab(5) with optional seconds; left out, the job only runs by `broadsheet run <name>`. */
    cron: cronExpression.optional(),
    timezone: timeZone.optional(),
    /** How late a missed occurrence may still run when the daemon comes back (ms after parsing). */
    catchUp: duration.default(parseDuration(DEFAULT_CATCH_UP)!),
    /** Longest a run may take before it is stopped and recorded failed (JOB_TIMEOUT); default per kind. */
    timeout: duration
      .refine((ms) => ms > 0, { message: 'a job needs a time limit above 0 (e.g. 15m, 2h)' })
      .optional(),
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((job, ctx) => {
    const opts = job.kind === 'ingest' ? ingestOptions : job.kind === 'send' ? sendOptions : undefined;
    if (!opts) return;
    const r = opts.safeParse(job.options);
    if (!r.success)
      for (const i of r.error.issues)
        ctx.addIssue({ code: 'custom', path: ['options', ...i.path], message: i.message });
  });

export type Job = z.infer<typeof jobSchema>;
export type Feed = z.infer<typeof feed>;

export const ingestFeeds = (job: Job): Feed[] => ingestOptions.parse(job.options).feeds;
export const sendTransport = (job: Job) => sendOptions.parse(job.options).transport;

export const describeCatchUp = (job: Job) => formatDuration(job.catchUp);

/**
 * The embedded default `jobs:` (input form, parsed like a file's): `main` is
 * what `npm start` runs by hand; `daily` and `ingest` are what `broadsheet
 * schedule` runs. Both digest jobs share the send ledger, so running `main`
 * and then `daily` on one day sends nobody the edition twice.
 */
export const DEFAULT_JOBS: z.input<typeof jobSchema>[] = [
  { name: 'main', kind: 'digest', edition: 'daily' },
  { name: 'daily', kind: 'digest', edition: 'daily', cron: '0 7 * * *' },
  { name: 'ingest', kind: 'ingest', cron: '*/30 * * * *', options: { feeds: [] } },
  // Scheduled social posts go out when due: the queue is drained every 5 minutes
  // (a run with nothing due does nothing; what was approved and scheduled goes once).
  { name: 'publish', kind: 'publish', cron: '*/5 * * * *' },
];
