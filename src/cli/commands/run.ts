import type { Command } from 'commander';
import { BroadsheetError } from '../../errors/index.ts';
import { secondsFlag } from '../../scheduler/duration.ts';
import type { Active } from '../../scheduler/execute.ts';
import { seconds } from '../../scheduler/limit.ts';
import { action, createContext, globalsOf, printJson, printResult } from '../app.ts';

export function registerRun(program: Command) {
  program
    .command('run <job>')
    .description(
      'run one configured job once (for system cron): its latest scheduled occurrence, under the same lease, run record and time limit (jobs[].timeout) as the daemon; `npm start` runs "main"',
    )
    .option('--force', 'run now as a manual run, even if the latest occurrence already ran or is too old')
    .option('--lease-ttl <seconds>', 'lease lifetime while running, renewed every third of it (default 60)')
    .action(
      action(async (name: string, opts: { force?: boolean; leaseTtl?: string }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const job = ctx.config.jobs.find((j) => j.name === name);
        if (!job)
          throw new BroadsheetError('JOB_UNKNOWN', { name, known: ctx.config.jobs.map((j) => j.name) });
        // Imported on use: the render stages load mjml/satori, which `check` and `--help` never need.
        const [{ runJob }, { runOne }, { openBackend, parseStoreTarget, closeBackend }] = await Promise.all([
          import('../../jobs/run.ts'),
          import('../../scheduler/one-shot.ts'),
          import('../../store/backend.ts'),
        ]);
        // The SQLite file or the shared PostgreSQL store (issue 17): the lease and
        // run record live there; the job's own stages open the store themselves.
        const backend = await openBackend(parseStoreTarget(ctx.paths.store), ctx.config.store, {
          applicationName: `broadsheet run ${job.name}`,
        });
        // Ctrl-C or a SIGTERM while the job runs ends it the way a time limit
        // does: recorded failed with the signal and the time it had run, lease
        // released, JOB_INTERRUPTED. A second signal, or one before the job
        // started, leaves at once (a run row left behind is reaped later).
        let active: Active | undefined;
        const onSignal = (sig: NodeJS.Signals) => {
          if (!active) process.exit(sig === 'SIGINT' ? 130 : 143);
          ctx.logger.warn(`${sig}: stopping ${job.name}`);
          const a = active;
          active = undefined;
          a.interrupt((ms) => `interrupted: ${sig} after ${seconds(ms)}`);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const r = await runOne(
            { ctx, backend, runJob, leaseTtlMs: secondsFlag(opts.leaseTtl, 60, '--lease-ttl') },
            job,
            {
              force: Boolean(opts.force),
              onStart: (a) => {
                active = a;
              },
              onEnd: () => {
                active = undefined;
              },
            },
          );
          if (g.json && r.json !== undefined) printJson(r.json);
          else if (r.text) printResult(r.text);
          // A job stopped at its time limit may still hold a socket or a
          // timer that would keep this process alive: once the error is
          // printed and the exit code set, leave.
          if (r.abandoned) setTimeout(() => process.exit(), 100).unref();
          if (r.error) throw r.error;
          return r.code;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await closeBackend(backend).catch(() => {});
        }
      }),
    );
}
