import type { Command } from 'commander';
import { BroadsheetError } from '../../errors/index.ts';
import { secondsFlag } from '../../scheduler/duration.ts';
import { action, createContext, globalsOf } from '../app.ts';

interface ScheduleFlags {
  heartbeat?: string;
  grace?: string;
  leaseTtl?: string;
}

export function registerSchedule(program: Command) {
  program
    .command('schedule')
    .description(
      'the daemon: run every job that has a cron, each occurrence once across processes; stop with SIGTERM',
    )
    .option('--heartbeat <seconds>', 'how often to write the heartbeat `status` reads (default 10)')
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
        const heartbeatMs = secondsFlag(flags.heartbeat, 10, '--heartbeat');
        const graceMs = secondsFlag(flags.grace, 300, '--grace');
        const leaseTtlMs = secondsFlag(flags.leaseTtl, 60, '--lease-ttl');
        const names = ctx.config.jobs.map((j) => j.name);
        const dup = names.find((n, i) => names.indexOf(n) !== i);
        if (dup) throw new BroadsheetError('JOBS_DUPLICATE', { name: dup });
        const scheduled = ctx.config.jobs.filter((j) => j.cron);
        if (!scheduled.length) throw new BroadsheetError('SCHEDULE_NOTHING', { jobs: names });

        const [{ runJob }, { Scheduler }, { openStore }] = await Promise.all([
          import('../../jobs/run.ts'),
          import('../../scheduler/daemon.ts'),
          import('../../store/db.ts'),
        ]);
        const db = openStore(ctx.paths.store);
        const scheduler = new Scheduler({ ctx, db, runJob, leaseTtlMs }, ctx.config.jobs, {
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
        scheduler.start();
        for (const j of ctx.config.jobs.filter((j) => !j.cron))
          ctx.logger.info(`${j.name}: no cron, not scheduled (run it with \`broadsheet run ${j.name}\`)`);
        for (const n of scheduler.nextRuns())
          ctx.logger.info({ job: n.job, next: n.local }, `${n.job}: next ${n.local}`);
        ctx.logger.info(
          { instance: scheduler.instance, store: ctx.paths.store, jobs: scheduled.map((j) => j.name) },
          `scheduler started (pid ${process.pid}), ${scheduled.length} job(s)`,
        );
        const { forced } = await scheduler.whenStopped();
        db.close();
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
