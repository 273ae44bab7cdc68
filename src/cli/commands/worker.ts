import type { Command } from 'commander';
import { action, createContext, globalsOf, printJson } from '../app.ts';

// `broadsheet worker` (issue 17; src/fanout/): take send batches from the shared
// queue in the PostgreSQL store until stopped. SIGTERM/SIGINT: no new batch or
// message; messages in flight finish; unfinished batches are given back.
export function registerWorker(program: Command) {
  program
    .command('worker')
    .description('take send batches from the shared queue (PostgreSQL stores) until SIGTERM')
    .option('--concurrency <n>', 'batches at once (default worker.concurrency)')
    .option(
      '--health-port <port>',
      'serve GET /healthz on 127.0.0.1:<port> (default worker.healthPort; 0 = none)',
    )
    .action(
      action(async (opts: { concurrency?: string; healthPort?: string }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { runWorker } = await import('../../fanout/worker.ts');
        const stats = await runWorker(ctx, {
          concurrency: opts.concurrency,
          healthPort: opts.healthPort,
        });
        if (g.json) printJson(stats);
        else
          process.stdout.write(
            `worker stopped: ${stats.batches} batch(es) done, ${stats.sent} sent, ${stats.failed} failed, ${stats.deferred} deferred\n`,
          );
        return 0;
      }),
    );
}
