import type { Command } from 'commander';
import { action, createContext, globalsOf, printJson } from '../app.ts';

export function registerStatus(program: Command) {
  program
    .command('status')
    .description(
      'each job’s next occurrence and last runs, sends per edition (committed = in doubt), every host’s daemons, workers and serve processes with their heartbeats (SQLite or PostgreSQL)',
    )
    .option('--runs <n>', 'runs to show per job (default 5)')
    .action(
      action(async (opts: { runs?: string }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { collectStatus, formatStatus } = await import('../../scheduler/status.ts');
        const n = opts.runs === undefined ? 5 : Number(opts.runs);
        const { UsageError } = await import('../../errors/index.ts');
        if (!Number.isInteger(n) || n < 0)
          throw new UsageError(`--runs takes a whole number, got "${opts.runs}"`);
        const s = await collectStatus(ctx, { runs: n });
        if (g.json) printJson(s);
        else process.stdout.write(`${formatStatus(s)}\n`);
        return 0;
      }),
    );
}
