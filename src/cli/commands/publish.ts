import type { Command } from 'commander';
import { action, createContext, globalsOf, printJson } from '../app.ts';

export function registerPublish(program: Command) {
  program
    .command('publish')
    .description('run the publish queue: send approved posts to the configured publishers (folder, webhook)')
    .action(
      action(async (_opts: Record<string, never>, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { runPublishQueue } = await import('../../review/publish.ts');
        const s = await runPublishQueue(ctx);
        if (g.json) printJson(s);
        else
          process.stdout.write(
            `published ${s.published}, deferred ${s.deferred}, failed ${s.failed}${s.recovered ? `, resumed ${s.recovered}` : ''}${s.skipped ? `, ${s.skipped} waiting for a publisher not configured` : ''}\n`,
          );
        return s.failed || s.deferred ? 1 : 0;
      }),
    );
}
