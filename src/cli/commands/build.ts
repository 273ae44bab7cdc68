import type { Command } from 'commander';
import { action, createContext, globalsOf, printJson, printResult } from '../app.ts';

export function registerBuild(program: Command) {
  program
    .command('build')
    .description('render the digest and cards of an edition into out/<edition-id>/')
    .option('--edition <id>', 'edition id like daily-2025-12-10 (default: the latest day with content)')
    .action(
      action(async (opts: { edition?: string }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        // A rebuild's card worker starts loading now, beside this thread, when content changed (src/cards/beside.ts).
        const beside = await import('../../cards/beside.ts');
        await beside.prestartBeside(ctx.paths, ctx.config.cards.workers, opts.edition);
        // Imported on use: the render stages load mjml/satori, which `check` and `--help` never need.
        const { buildEdition, buildSummary } = await import('../../jobs/build.ts');
        const r = await buildEdition(ctx, { id: opts.edition }).finally(beside.closePrestarted);
        if (g.json) printJson({ dir: r.dir, ...r.manifest });
        else printResult(buildSummary(r));
        return r.manifest.failures.length ? 1 : 0;
      }),
    );
}
