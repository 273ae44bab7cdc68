import type { Command } from 'commander';
import { action, createContext, globalsOf, printJson } from '../app.ts';

// `broadsheet report [<edition>] [--last N] [--json]` (issue 15): an edition's
// delivery and engagement (src/report/), or the headline numbers of the last N
// editions sent. Reads the store read-only: safe while a send or serve runs.
export function registerReport(program: Command) {
  program
    .command('report')
    .description(
      'an edition’s sends, bounces, complaints, unsubscribes and clicks (default: the latest sent)',
    )
    .argument('[edition]', 'edition id, e.g. daily-2025-12-10 (default: the latest edition sent)')
    .option('--last [n]', 'instead: the headline numbers of the last N editions sent (default 10)')
    .action(
      action(async (edition: string | undefined, opts: { last?: string | true }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { existsSync } = await import('node:fs');
        const { BroadsheetError } = await import('../../errors/index.ts');
        const { openBackend, closeBackend, parseStoreTarget, displayStore } = await import(
          '../../store/backend.ts'
        );
        const { reportSourceFor } = await import('../../report/source.ts');
        const f = await import('../../report/format.ts');
        let last: number | undefined;
        if (opts.last !== undefined) {
          last = opts.last === true ? 10 : Number(opts.last);
          if (!Number.isInteger(last) || last < 1 || last > 1000)
            throw new BroadsheetError('REPORT_LAST_INVALID', { value: String(opts.last) });
        }
        const target = parseStoreTarget(ctx.paths.store);
        const store = displayStore(target);
        if (target.kind === 'sqlite' && !existsSync(target.file))
          throw new BroadsheetError('REPORT_NO_EDITIONS', { store });
        // Read-only use: the SQLite file opened read-only, PostgreSQL without migrating.
        const b = await openBackend(target, ctx.config.store, {
          readonly: true,
          migrate: false,
          applicationName: 'broadsheet report',
        });
        try {
          const r = reportSourceFor(b);
          if (!(await r.hasLedger())) throw new BroadsheetError('REPORT_NO_EDITIONS', { store });
          const tz = ctx.config.timezone;
          const outDir = ctx.paths.out;
          if (last !== undefined && edition === undefined) {
            const rows = await r.collectRecent(last, { outDir });
            if (g.json) printJson({ last, editions: rows });
            else process.stdout.write(`${f.formatRecent(rows, tz)}\n`);
            return 0;
          }
          const editions = await r.sentEditions();
          if (!editions.length) throw new BroadsheetError('REPORT_NO_EDITIONS', { store });
          const id = edition ?? editions[0]!.edition;
          if (!(await r.editionExists(id)))
            throw new BroadsheetError('REPORT_EDITION_UNKNOWN', {
              edition: id,
              editions: editions.map((e) => e.edition),
            });
          const rep = await r.collectReport(id, { outDir });
          const recent = last === undefined ? undefined : await r.collectRecent(last, { outDir });
          if (g.json) printJson(recent ? { ...rep, recent } : rep);
          else
            process.stdout.write(
              `${f.formatReport(rep, tz)}${recent ? `\n\nLast ${recent.length} edition(s)\n${f.formatRecent(recent, tz)}` : ''}\n`,
            );
          return 0;
        } catch (err) {
          if (b.kind === 'postgres') throw (await import('../../store/pg/pool.ts')).pgError(err, b.url);
          throw err;
        } finally {
          await closeBackend(b);
        }
      }),
    );
}
