// The parts of a job's settings that code reads after the config is parsed:
// the kinds, their default time limits, a job's zone and limit. Kept apart
// from config.ts (the zod schema) so `broadsheet status` and the run ledger
// load no zod when the parsed config comes from the cache (issue 16).
import type { Job } from './config.ts';
import { parseDuration } from './duration.ts';

export const JOB_KINDS = ['ingest', 'build', 'send', 'digest', 'cards', 'publish'] as const;

/** Default `catchUp`: a missed occurrence younger than this runs once when the daemon starts. */
export const DEFAULT_CATCH_UP = '2h';

/**
 * Default `timeout` per kind: well past what a healthy run takes, short
 * enough that a stuck one is stopped before its next occurrence matters.
 * ingest: a few feeds, each fetch bounded at 15 s. build/cards: one edition's
 * digest and a few hundred PNGs (seconds here; minutes on a slow box).
 * digest: a build plus a send to the list. send: a large list at the
 * configured rate. publish: a handful of API calls per approved post.
 */
export const DEFAULT_TIMEOUTS: Record<(typeof JOB_KINDS)[number], string> = {
  ingest: '10m',
  build: '15m',
  cards: '15m',
  digest: '1h',
  send: '2h',
  publish: '15m',
};

/** The zone a job's cron is read in. */
export const jobZone = (job: Job, config: { timezone: string }) => job.timezone ?? config.timezone;

/** The job's time limit in ms: `timeout`, else its kind's default. */
export const jobTimeout = (job: Pick<Job, 'kind' | 'timeout'>): number =>
  job.timeout ?? parseDuration(DEFAULT_TIMEOUTS[job.kind])!;
