// `broadsheet status` on a PostgreSQL store (issue 17): the report status.ts
// builds for a SQLite file, read from the shared database — every host's runs,
// sends and processes — with every age by the database's clock. Like the
// SQLite form, it first records runs whose process is gone as failed
// (interrupted), and it never migrates the schema.
import type { Context } from '../context.ts';
import { heartbeatsFor } from '../ops/heartbeat-store.ts';
import { closeBackend, displayStore, openBackend, parseStoreTarget } from '../store/backend.ts';
import { jobRunsFor } from '../store/jobs.ts';
import { leaseFor } from '../store/lease.ts';
import { reapDeadRunsIn } from './execute.ts';
import {
  hostSummary,
  jobReports,
  processReports,
  reapedOf,
  type StatusReport,
  schedulerOf,
  withInDoubt,
} from './status.ts';

export async function collectPgStatus(ctx: Context, opts: { runs?: number }): Promise<StatusReport> {
  const now = ctx.clock.now();
  const target = parseStoreTarget(ctx.paths.store);
  const b = await openBackend(target, ctx.config.store, {
    migrate: false,
    applicationName: 'broadsheet status',
  });
  if (b.kind !== 'postgres') throw new Error('unreachable: status-pg on a SQLite store');
  try {
    const has = await b.pool.query<{ runs: boolean; beats: boolean }>(
      "SELECT to_regclass('job_runs') IS NOT NULL AS runs, to_regclass('process_heartbeats') IS NOT NULL AS beats",
    );
    const { runs: hasRuns, beats: hasBeats } = has.rows[0]!;
    const runs = hasRuns ? await jobRunsFor(b) : undefined;
    let reaped: StatusReport['reaped'] = [];
    if (runs) {
      try {
        reaped = (await reapDeadRunsIn({ runs, leases: await leaseFor(b) }, now)).map(reapedOf);
      } catch (err) {
        ctx.logger.debug({ err }, 'status: could not record dead runs as failed');
      }
    }
    const processes = hasBeats
      ? processReports(await (await heartbeatsFor(b)).list({ limit: 200 }), ctx.config.ops.staleBeats)
      : [];
    const daemons = processes.filter((p) => p.role === 'daemon');
    const instances = daemons.map((p) => ({
      instance: p.instance,
      pid: p.pid,
      host: p.host,
      state: p.state,
      startedAt: p.startedAt,
      beatAt: p.beatAt,
      ageMs: p.ageMs,
      intervalMs: p.intervalMs,
      alive: p.alive,
      stale: p.stale,
      running: p.alive ? ((p.detail?.running as { job: string; occurrence: string | null }[]) ?? []) : [],
    }));
    return {
      generatedAt: now.toISOString(),
      store: { path: displayStore(target), exists: hasRuns, kind: 'postgres' },
      processes,
      hosts: hostSummary(processes),
      scheduler: schedulerOf(instances),
      reaped,
      jobs: await jobReports(ctx, now, opts.runs ?? 5, runs && ((job, limit) => runs.recentRuns(job, limit))),
      sends: runs ? withInDoubt(await runs.sendCounts()) : [],
    };
  } finally {
    await closeBackend(b).catch(() => {});
  }
}
