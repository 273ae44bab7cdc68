import type { Command } from 'commander';
import { action, createContext, globalsOf } from '../app.ts';

// `broadsheet store copy --from URL --to URL` (issue 17; src/store/copy.ts).
export function registerStore(program: Command) {
  const store = program.command('store').description('move a newsroom’s data between stores');
  store
    .command('copy')
    .description('copy every table from one store to another, counts checked')
    .requiredOption('--from <url>', 'source: sqlite:PATH, a file path, or postgres://…')
    .requiredOption('--to <url>', 'target: sqlite:PATH, a file path, or postgres://…')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        createContext(globalsOf(cmd));
        const { UsageError } = await import('../../errors/index.ts');
        throw new UsageError('broadsheet store copy is not built yet');
      }),
    );
}
