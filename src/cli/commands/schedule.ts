import type { Command } from 'commander';
import { BroadsheetError } from '../../errors/index.ts';
import { secondsFlag } from '../../scheduler/duration.ts';
import { action, createContext, globalsOf } from '../app.ts';

interface ScheduleFlags {
  heartbeat?: string;
  grace?: string;
  leaseTtl?: string;
  healthPort?: string;
}

function portFlag(v: string | undefined, dflt: number | undefined): number | undefined {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65_535) throw new BroadsheetError('OPS_HEALTH_PORT_INVALID', { value: v });
  return n;
}

export function registerSchedule(program: Command) {
  program
    .command('schedule')
    .description(
      'the daemon: run every job that has a cron, each occurrence once across processes; stop with SIGTERM',
    )
    .option(
      '--heartbeat <seconds>',
      'how often to write the heartbeat `status` reads (default ops.heartbeatMs, 10)',
    )
    .option(
      '--health-port <port>',
      'serve GET /healthz on this port (ops.healthHost): 200 while the store answers and the heartbeat lands, else 503 (default ops.healthPort; none)',
    )
    .option(
      '--grace <seconds>',
      'on SIGTERM/SIGINT, how long running jobs may finish before they are ended and recorded failed, exit 1 (default 300)',
    )
    .option(
      '--lease-ttl <seconds>',
      'lease lifetime while a job runs, renewed every third of it (default 60)',
    )
    .action(
      action(async (flags: ScheduleFlags, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const ops = ctx.config.ops;
        const heartbeatMs = secondsFlag(flags.heartbeat, ops.heartbeatMs / 1000, '--heartbeat');
        const healthPort = portFlag(flags.healthPort, ops.healthPort);
        const graceMs = secondsFlag(flags.grace, 300, '--grace');
        const leaseTtlMs = secondsFlag(flags.leaseTtl, 60, '--lease-ttl');
        const names = ctx.config.jobs.map((j) => j.name);
        const dup = names.find((n, i) => names.indexOf(n) !== i);
        if (dup) throw new BroadsheetError('JOBS_DUPLICATE', { name: dup });
        const scheduled = ctx.config.jobs.filter((j) => j.cron);
        if (!scheduled.length) throw new BroadsheetError('SCHEDULE_NOTHING', { jobs: names });

        const [{ runJob }, { Scheduler }, { openBackend, parseStoreTarget, closeBackend, displayStore }] =
          await Promise.all([
            import('../../jobs/run.ts'),
            import('../../scheduler/daemon.ts'),
            import('../../store/backend.ts'),
          ]);
        const target = parseStoreTarget(ctx.paths.store);
        if (target.kind === 'postgres') {
          // Every host signs the same tokens: fail now, not at the first send.
          const { appSecret } = await import('../../config/secret.ts');
          appSecret(ctx);
        }
        const backend = await openBackend(target, ctx.config.store, {
          applicationName: 'broadsheet schedule',
        });
        const scheduler = new Scheduler({ ctx, backend, runJob, leaseTtlMs }, ctx.config.jobs, {
          heartbeatMs,
          graceMs,
        });
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals) => {
          signals++;
          if (signals === 1) {
            ctx.logger.info(
              `${sig}: stopping; no new runs start; running jobs get up to ${graceMs / 1000} s (--grace) to finish`,
            );
            void scheduler.stop(sig);
          } else {
            ctx.logger.warn(`${sig} again: interrupting running jobs now`);
            scheduler.force(`${sig} again`);
          }
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        try {
          await scheduler.start();
        } catch (err) {
          await closeBackend(backend).catch(() => {});
          throw err;
        }
        let health: { close(): Promise<void> } | undefined;
        if (healthPort !== undefined) {
          const { startHealthServer, processCheck } = await import('../../ops/health.ts');
          try {
            const h = await startHealthServer({
              host: ops.healthHost,
              port: healthPort,
              timeoutMs: ops.healthTimeoutMs + 1000,
              check: processCheck({
                store: scheduler.beats!,
                heartbeat: scheduler.heartbeat!,
                intervalMs: heartbeatMs,
                staleBeats: ops.staleBeats,
                storeTimeoutMs: ops.healthTimeoutMs,
                extra: () => ({
                  state: scheduler.stopping ? 'stopping' : 'running',
                  store: displayStore(target),
                  running: [...scheduler.active.values()].map((a) => `${a.job}@${a.occurrence ?? 'manual'}`),
                }),
              }),
            });
            health = h;
            ctx.logger.info(
              { health: `http://${h.host}:${h.port}/healthz` },
              `health: GET http://${h.host}:${h.port}/healthz`,
            );
          } catch (err) {
            await scheduler.stop('the health endpoint could not start');
            await closeBackend(backend).catch(() => {});
            throw err;
          }
        }
        for (const j of ctx.config.jobs.filter((j) => !j.cron))
          ctx.logger.info(`${j.name}: no cron, not scheduled (run it with \`broadsheet run ${j.name}\`)`);
        for (const n of scheduler.nextRuns())
          ctx.logger.info({ job: n.job, next: n.local }, `${n.job}: next ${n.local}`);
        ctx.logger.info(
          { instance: scheduler.instance, store: displayStore(target), jobs: scheduled.map((j) => j.name) },
          `scheduler started (pid ${process.pid}), ${scheduled.length} job(s)`,
        );
        const { forced } = await scheduler.whenStopped();
        await health?.close();
        await closeBackend(backend).catch(() => {});
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        ctx.logger.info(forced ? 'scheduler stopped; running jobs were interrupted' : 'scheduler stopped');
        if (forced) {
          // Exit 1: work was cut short (README § The daemon). A job may still
          // hold handles (sockets, workers): leave without waiting for it.
          process.exit(1);
        }
        // A run stopped at its time limit earlier may have left a socket open
        // that would keep the process up: once stopped, the daemon leaves.
        setTimeout(() => process.exit(), 100).unref();
        return 0;
      }),
    );
}
