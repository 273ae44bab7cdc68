import type { Command } from 'commander';
import { BroadsheetError } from '../../errors/index.ts';
import { action, createContext, globalsOf, printJson } from '../app.ts';

export function registerRun(program: Command) {
  program
    .command('run <job>')
    .description('run one configured job once (for system cron); `npm start` runs "main"')
    .action(
      action(async (name: string, _opts: object, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        // Imported on use: the render stages load mjml/satori, which `check` and `--help` never need.
        const { runJob } = await import('../../jobs/run.ts');
        const job = ctx.config.jobs.find((j) => j.name === name);
        if (!job)
          throw new BroadsheetError('JOB_UNKNOWN', { name, known: ctx.config.jobs.map((j) => j.name) });
        const r = await runJob(ctx, job);
        if (g.json) printJson(r);
        else process.stdout.write(`${r.summary}\n`);
        return r.ok ? 0 : 1;
      }),
    );
}
