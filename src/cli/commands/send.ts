import type { Command } from 'commander';
import { UsageError } from '../../errors/index.ts';
import { action, createContext, globalsOf, printJson } from '../app.ts';

export function registerSend(program: Command) {
  program
    .command('send')
    .description('deliver an edition’s digest to every active subscriber, exactly once (resumable)')
    .option('--edition <id>', 'edition id like daily-2025-12-10 (default: the latest day with content)')
    .option('--transport <name>', 'outbox | smtp | json (default: smtp when SMTP_URL is set, else outbox)')
    .option('--dry-run', 'render and count the messages without sending or recording anything')
    .option('--limit <n>', 'send at most N messages this run (the rest stay queued)')
    .option(
      '--no-wait',
      'PostgreSQL store: only queue the edition’s batches for `broadsheet worker` processes, do not send here',
    )
    .option(
      '--to <address>',
      'send a test to this one address instead: subject marked, not recorded, no reader changed',
    )
    .action(
      action(
        async (
          opts: {
            edition?: string;
            transport?: string;
            dryRun?: boolean;
            limit?: string;
            to?: string;
            wait?: boolean;
          },
          cmd: Command,
        ) => {
          const g = globalsOf(cmd);
          if (opts.transport && !['outbox', 'smtp', 'json'].includes(opts.transport))
            throw new UsageError(`--transport must be outbox, smtp or json (got "${opts.transport}")`);
          const limit = opts.limit === undefined ? undefined : Number(opts.limit);
          if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
            throw new UsageError(`--limit must be a positive whole number (got "${opts.limit}")`);
          if (opts.to !== undefined) return sendTestCommand(opts, g);
          const ctx = createContext(g);
          await requireSubscribers(ctx.paths.store);
          const { loadSendInput } = await import('../../delivery/edition.ts');
          const { deliver, formatSummary, undelivered } = await import('../../delivery/deliver.ts');
          const { summaryOfStopped } = await import('../../delivery/send.ts');
          const { progressReporter } = await import('../../delivery/progress.ts');
          const input = await loadSendInput(ctx, opts.edition);
          const reporter = progressReporter(ctx, {
            tty: Boolean(process.stderr.isTTY) && !g.json,
            label: input.editionId,
          });
          let summary: Awaited<ReturnType<typeof deliver>>;
          try {
            summary = await deliver(ctx, input, {
              transport: opts.transport,
              dryRun: opts.dryRun,
              limit,
              onProgress: reporter.update,
              wait: opts.wait,
            });
          } catch (err) {
            // A run that stopped early still says what it did, then its error (and exit code) follows.
            const partial = summaryOfStopped(err);
            reporter.stop();
            if (partial) {
              if (g.json) printJson(partial);
              else process.stdout.write(`${formatSummary(partial)}\n`);
            }
            throw err;
          } finally {
            reporter.stop();
          }
          if (g.json) printJson(summary);
          else process.stdout.write(`${formatSummary(summary)}\n`);
          return undelivered(summary) ? 1 : 0;
        },
      ),
    );
}

/** `send --to`: one test message, outside the ledger (src/delivery/test-send.ts). */
async function sendTestCommand(
  opts: { edition?: string; transport?: string; dryRun?: boolean; limit?: string; to?: string },
  g: ReturnType<typeof globalsOf>,
) {
  // A test is one message and leaves no record: a dry run of it is `broadsheet preview`.
  if (opts.dryRun || opts.limit !== undefined)
    throw new UsageError('--to sends one test message: it cannot be combined with --dry-run or --limit');
  const { sendTest, testAddress, formatTestSend } = await import('../../delivery/test-send.ts');
  const to = testAddress(opts.to); // before any config or content is read
  const ctx = createContext(g);
  const { loadSendInput } = await import('../../delivery/edition.ts');
  const input = await loadSendInput(ctx, opts.edition);
  const r = await sendTest(ctx, input, { to, transport: opts.transport });
  if (g.json) printJson(r);
  else process.stdout.write(`${formatTestSend(r)}\n`);
  return 0;
}

/**
 * An empty store is a setup step not yet done, not a send that found nothing
 * left: say so (exit 2, like a missing SMTP_URL: running again will not help)
 * and name the commands that add readers. The store is not created for it.
 */
async function requireSubscribers(store: string) {
  const { existsSync } = await import('node:fs');
  const { BroadsheetError } = await import('../../errors/index.ts');
  const { displayPath } = await import('../../content/problems.ts');
  const { isPgUrl, displayStore } = await import('../../store/backend.ts');
  if (isPgUrl(store)) return requirePgSubscribers(store, displayStore({ kind: 'postgres', url: store }));
  const empty = () => new BroadsheetError('SEND_NO_SUBSCRIBERS', { store: displayPath(store) });
  if (!existsSync(store)) throw empty();
  const { openStore, SubscriberRepo } = await import('../../store/index.ts');
  const db = openStore(store);
  try {
    if (new SubscriberRepo(db).count() === 0) throw empty();
  } finally {
    db.close();
  }
}

/** The same check on a PostgreSQL store (one short-lived connection; migrations are left to send). */
async function requirePgSubscribers(url: string, shown: string) {
  const { BroadsheetError } = await import('../../errors/index.ts');
  const { openPgPool, pgError } = await import('../../store/pg/pool.ts');
  const { storeConfigSchema } = await import('../../store/config.ts');
  const pool = await openPgPool(url, storeConfigSchema.parse({ poolMax: 1 }), 'broadsheet send');
  try {
    const r = await pool
      .query<{ n: number }>('SELECT count(*) AS n FROM subscribers')
      .catch((err: { code?: string }) => {
        // No subscribers table yet: a store never migrated has no readers either.
        if (err?.code === '42P01') return { rows: [{ n: 0 }] };
        throw pgError(err, url);
      });
    if (!r.rows[0]?.n) throw new BroadsheetError('SEND_NO_SUBSCRIBERS', { store: shown });
  } finally {
    await pool.end().catch(() => {});
  }
}
