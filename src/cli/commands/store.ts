import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from '../../logger.ts';
import { action, createContext, globalsOf, printJson, printResult } from '../app.ts';

/** Tables with at least this many rows show progress on stderr. */
const PROGRESS_MIN_ROWS = 10_000;

// `broadsheet store copy --from URL --to URL` (issue 17; src/store/copy.ts).
export function registerStore(program: Command) {
  const store = program.command('store').description('move a newsroom’s data between stores');
  store
    .command('copy')
    .description('copy every table from one store to another in one transaction, counts checked')
    .requiredOption('--from <url>', 'source: sqlite:PATH, a file path, or postgres://…')
    .requiredOption('--to <url>', 'target: sqlite:PATH, a file path, or postgres://…')
    .option('--replace', 'empty a target that holds data (in the same transaction as the copy)')
    .option('--force', 'copy even while a send holds a live lease on the source')
    .action(
      action(async (opts: { from: string; to: string; replace?: boolean; force?: boolean }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { parseStoreTarget } = await import('../../store/backend.ts');
        const { copyStore } = await import('../../store/copy.ts');
        const { heldBy } = await import('../../store/copy-side.ts');
        const from = parseStoreTarget(opts.from, ctx.paths.root);
        const to = parseStoreTarget(opts.to, ctx.paths.root);
        const progress = await progressReporter(ctx.logger);
        let result: Awaited<ReturnType<typeof copyStore>>;
        try {
          result = await copyStore(from, to, ctx.config.store, {
            replace: opts.replace,
            force: opts.force,
            onProgress: progress.update,
          });
        } finally {
          progress.stop();
        }
        const warnings = secretWarnings(from, ctx.secrets.secret);
        for (const w of warnings) ctx.logger.warn(w);
        for (const l of result.forced)
          ctx.logger.warn(
            { lease: l.name, holder: l.holder },
            `--force: copied while ${l.name} is held by ${heldBy(l)}; ledger rows it writes after the snapshot are not in the copy`,
          );
        if (g.json) {
          printJson({ ...result, warnings });
          return 0;
        }
        const width = Math.max(...result.tables.map((t) => t.table.length), 5);
        printResult(
          [
            `store copy: ${result.from} → ${result.to} (schema version ${result.version})`,
            ...result.tables.map((t) => `  ${t.table.padEnd(width)}  ${String(t.rows).padStart(9)}`),
            `✓ ${result.tables.length} tables, ${result.rows} rows copied and counted in ${(result.ms / 1000).toFixed(1)} s${result.replaced ? ' (the target’s previous data was replaced)' : ''}`,
            `  not copied (process state of the source): ${result.skipped.map((s) => s.table).join(', ') || 'none'}`,
          ].join('\n'),
        );
        return 0;
      }),
    );
}

/**
 * Progress for big tables on stderr: a bar on a terminal, else a log line at
 * every tenth (cron, CI and tests read those).
 */
async function progressReporter(logger: Logger) {
  const tty = Boolean(process.stderr.isTTY);
  const { progressBar } = tty ? await import('../../progress.ts') : { progressBar: undefined };
  let bar: ReturnType<NonNullable<typeof progressBar>> | undefined;
  let current = '';
  let step = 0;
  return {
    update({ table, done, total }: { table: string; done: number; total: number }) {
      if (total < PROGRESS_MIN_ROWS) return;
      if (table !== current) {
        bar?.stop();
        bar = progressBar?.(`copy ${table}`, total);
        current = table;
        step = 0;
      }
      if (bar) return bar.update(done);
      const tenth = Math.floor((done * 10) / total);
      if (tenth > step) {
        step = tenth;
        logger.info({ table, done, total }, `store copy: ${table} ${done}/${total}`);
      }
    },
    stop: () => bar?.stop(),
  };
}

/**
 * An SQLite newsroom without BROADSHEET_SECRET signed its links and keyed its
 * hashes (suppression, consent) with the secret.key next to the store: the
 * target's hosts need that very key, or old unsubscribe links stop working
 * and forgotten readers' suppression hashes stop matching.
 */
function secretWarnings(from: { kind: string; file?: string }, secret: string | undefined): string[] {
  if (from.kind !== 'sqlite' || !from.file) return [];
  const file = join(dirname(from.file), 'secret.key');
  if (!existsSync(file)) return [];
  if (secret && readFileSync(file, 'utf8').trim() === secret) return [];
  return [
    `the source's links and keyed hashes were made with ${file}: set BROADSHEET_SECRET to its contents on every host that uses the target, or old unsubscribe links and suppression hashes stop matching`,
  ];
}
