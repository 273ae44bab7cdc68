import type { Command } from 'commander';
import { action, createContext, globalsOf } from '../app.ts';

// `broadsheet worker` (issue 17; src/fanout/): take send batches from the shared
// queue in the PostgreSQL store until stopped.
export function registerWorker(program: Command) {
  program
    .command('worker')
    .description('take send batches from the shared queue (PostgreSQL stores)')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        createContext(globalsOf(cmd));
        const { UsageError } = await import('../../errors/index.ts');
        throw new UsageError('broadsheet worker is not built yet');
      }),
    );
}
