import { resolve } from 'node:path';
import type { Command } from 'commander';
import { appSecret } from '../../config/secret.ts';
import { displayPath, formatProblem } from '../../content/problems.ts';
import type { Context } from '../../context.ts';
import { tokenKeys } from '../../delivery/tokens.ts';
import { BroadsheetError, UsageError } from '../../errors/index.ts';
import { action, createContext, globalsOf, printJson } from '../app.ts';
import { registerPrivacy } from './subscribers-privacy.ts';

type Backend = import('../../store/backend.ts').Backend;
type Subscribers = import('../../store/subscribers.ts').Subscribers;

/**
 * Run `fn` on the store `ctx` names — the SQLite file or the PostgreSQL
 * database (issue 17) — and close it. A full disk or a damaged page found
 * mid-import is named like one found at open; a PostgreSQL failure gets its
 * catalog code (unreachable, timeout, …).
 */
export async function withBackend<T>(ctx: Context, fn: (b: Backend) => T | Promise<T>): Promise<T> {
  const { openBackend, closeBackend, parseStoreTarget } = await import('../../store/backend.ts');
  const target = parseStoreTarget(ctx.paths.store);
  const b = await openBackend(target, ctx.config.store);
  try {
    return await fn(b);
  } catch (err) {
    if (b.kind === 'postgres') {
      const { pgError } = await import('../../store/pg/pool.ts');
      throw pgError(err, b.url);
    }
    const { storeError } = await import('../../store/index.ts');
    throw /^SQLITE_(FULL|CORRUPT|NOTADB|READONLY|IOERR)/.test((err as { code?: string }).code ?? '')
      ? storeError(err, ctx.paths.store)
      : err;
  } finally {
    await closeBackend(b);
  }
}

async function withStore<T>(ctx: Context, fn: (repo: Subscribers, b: Backend) => T | Promise<T>) {
  const { subscribersFor } = await import('../../store/subscribers.ts');
  return withBackend(ctx, (b) =>
    fn(
      subscribersFor(b, () => ctx.clock.now()),
      b,
    ),
  );
}

/** The rows whose address is on the suppression list (forgotten, bounced, complained …). */
async function suppressedRows(b: Backend, keys: readonly Buffer[], ctx: Context, emails: string[]) {
  const { suppressionFor } = await import('../../store/suppression.ts');
  const list = suppressionFor(b, keys, () => ctx.clock.now());
  // An empty suppression list (the common case) costs no per-row hash and lookup.
  if ((await list.count()) === 0) return new Set<string>();
  if (b.kind === 'sqlite') return new Set(emails.filter((e) => list.reason(e)));
  // PostgreSQL: one round trip per 20,000 hashes, then reason() for the few hits (it re-keys old ones).
  const hits = await (list as import('../../store/pg/suppression.ts').PgSuppression).suppressedAmong(emails);
  for (const e of hits) await list.reason(e);
  return hits;
}

export function registerSubscribers(program: Command) {
  const sub = program.command('subscribers').description('manage the subscriber list in the store');

  sub
    .command('import <csv>')
    .description(
      'import a CSV (email,name,locale,topics); each bad row is reported at its line and skipped, the rest imported',
    )
    .addHelpText(
      'after',
      '\nExit 0 when every row was imported as written; 1 when any row was skipped or imported without its\n' +
        '(unsupported) locale; 2 when the file has no usable header. Repeated addresses keep the first row.\n' +
        'See README.md § Content → Subscribers CSV.',
    )
    .action(
      action(async (file: string, _opts: object, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { readSubscribersCsv } = await import('../../content/subscribers.ts');
        const shown = displayPath(resolve(file));
        let csv: Awaited<ReturnType<typeof readSubscribersCsv>>;
        try {
          csv = await readSubscribersCsv(resolve(file), shown);
        } catch (err) {
          if (err instanceof BroadsheetError) throw err;
          throw new BroadsheetError('SUBSCRIBERS_CSV_UNREADABLE', { file }, { cause: err });
        }
        const reported = [...csv.problems, ...csv.warnings].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
        // On a terminal, a wholly wrong file (a TSV, a spreadsheet export) would
        // print one report per row: show the first ones, --json has them all.
        const shownMax = g.json ? Number.POSITIVE_INFINITY : 100;
        for (const p of reported.slice(0, shownMax)) process.stderr.write(`${formatProblem(p)}\n`);
        for (const d of csv.duplicates.slice(0, shownMax))
          process.stderr.write(
            `${shown}:${d.line}: ${d.email} repeats line ${d.first}; the first row is used\n`,
          );
        const hidden =
          Math.max(0, reported.length - shownMax) + Math.max(0, csv.duplicates.length - shownMax);
        if (hidden > 0 && Number.isFinite(shownMax))
          process.stderr.write(`… and ${hidden} more report(s) not shown (use --json for all)\n`);
        const keys = tokenKeys(appSecret(ctx));
        const { counts, suppressed } = await withStore(ctx, async (repo, b) => {
          // Forgotten (and otherwise suppressed) addresses are skipped: only the reader can come back.
          const rows = csv.rows.map(({ line: _line, ...r }) => r);
          const skip = await suppressedRows(
            b,
            keys,
            ctx,
            rows.map((r) => r.email),
          );
          const allowed = skip.size ? rows.filter((r) => !skip.has(r.email)) : rows;
          return {
            counts: await repo.upsertMany(allowed, `import:${shown}`),
            suppressed: rows.length - allowed.length,
          };
        });
        const result = {
          file,
          ...counts,
          suppressed,
          invalid: csv.problems.length,
          localeDropped: csv.warnings.length,
          duplicates: csv.duplicates.length,
          problems: reported.map(({ hint: _hint, ...p }) => p),
        };
        if (g.json) printJson(result);
        else
          process.stdout.write(
            `imported ${file}: ${counts.added} added, ${counts.updated} updated, ${counts.unchanged} unchanged, ` +
              `${counts['kept-status']} kept unsubscribed/bounced/complained, ${csv.problems.length} invalid row(s) skipped, ` +
              `${csv.warnings.length} unsupported locale(s) dropped, ${csv.duplicates.length} duplicate(s)` +
              (suppressed ? `, ${suppressed} suppressed (forgotten) address(es) skipped` : '') +
              '\n',
          );
        return csv.problems.length || csv.warnings.length ? 1 : 0;
      }),
    );

  sub
    .command('add <email>')
    .description('add (or update) one subscriber; a suppressed address stays suppressed')
    .option('--name <name>', 'display name')
    .option('--locale <tag>', 'e.g. zh-Hant-HK or zh-Hans')
    .option('--topics <list>', 'topics separated by ";"')
    .action(
      action(
        async (email: string, opts: { name?: string; locale?: string; topics?: string }, cmd: Command) => {
          const g = globalsOf(cmd);
          const ctx = createContext(g);
          const { subscriberRowSchema } = await import('../../content/subscribers.ts');
          const r = subscriberRowSchema.safeParse({
            email,
            name: opts.name,
            locale: opts.locale,
            topics: opts.topics,
          });
          if (!r.success)
            throw new BroadsheetError('SUBSCRIBER_INVALID', {
              email,
              detail: r.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; '),
            });
          const keys = tokenKeys(appSecret(ctx));
          const outcome = await withStore(ctx, async (repo, b) => {
            const { suppressionFor } = await import('../../store/suppression.ts');
            const reason = await suppressionFor(b, keys).reason(r.data.email);
            if (reason) throw new BroadsheetError('SUBSCRIBER_SUPPRESSED', { email: r.data.email, reason });
            return repo.upsert(r.data, 'cli');
          });
          if (g.json) printJson({ email: r.data.email, outcome });
          else process.stdout.write(`${r.data.email}: ${outcome}\n`);
          return 0;
        },
      ),
    );

  sub
    .command('remove <email>')
    .description('unsubscribe an address (kept as unsubscribed, so a re-import never mails it again)')
    .option('--status <status>', 'unsubscribed | bounced | complained', 'unsubscribed')
    .action(
      action(async (email: string, opts: { status: string }, cmd: Command) => {
        const g = globalsOf(cmd);
        if (!['unsubscribed', 'bounced', 'complained'].includes(opts.status))
          throw new UsageError(`--status must be unsubscribed, bounced or complained (got "${opts.status}")`);
        const ctx = createContext(g);
        const ok = await withStore(ctx, (repo) =>
          repo.setStatus(
            email,
            opts.status as 'unsubscribed',
            'removed with `broadsheet subscribers remove`',
          ),
        );
        if (!ok) throw new BroadsheetError('SUBSCRIBER_UNKNOWN', { email });
        if (g.json) printJson({ email: email.trim().toLowerCase(), status: opts.status });
        else process.stdout.write(`${email.trim().toLowerCase()}: ${opts.status}\n`);
        return 0;
      }),
    );

  sub
    .command('list')
    .description('list subscribers (--json includes each one’s unsubscribeUrl)')
    .option('--status <status>', 'only active | unsubscribed | bounced | complained')
    .option('--all', 'also the anonymous placeholders `subscribers forget` leaves (erased-<id>@invalid)')
    .option(
      '--list <name>',
      'the edition (list) the unsubscribe URLs are for (default: the first configured)',
    )
    .action(
      action(async (opts: { status?: string; list?: string; all?: boolean }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { SUBSCRIBER_STATUSES } = await import('../../store/index.ts');
        if (opts.status && !(SUBSCRIBER_STATUSES as readonly string[]).includes(opts.status))
          throw new UsageError(`--status must be one of ${SUBSCRIBER_STATUSES.join(', ')}`);
        const list = opts.list ?? Object.keys(ctx.config.editions)[0]!;
        if (!(list in ctx.config.editions))
          throw new UsageError(
            `--list must be a configured edition (${Object.keys(ctx.config.editions).join(', ')})`,
          );
        const { unsubscribeToken, unsubscribeUrl } = await import('../../delivery/unsubscribe.ts');
        const keys = tokenKeys(appSecret(ctx));
        // A forgotten reader's row stays only so delivery counts hold: it is no one to list.
        const rows = (
          await withStore(ctx, (repo) => repo.list({ status: opts.status as 'active' | undefined }))
        ).filter((s) => opts.all || !/^erased-\d+@invalid$/.test(s.email));
        if (g.json)
          printJson(
            rows.map((s) => ({
              ...s,
              unsubscribeUrl: unsubscribeUrl(ctx.config.publicUrl, unsubscribeToken(keys, list, s.id)),
            })),
          );
        else {
          for (const s of rows)
            process.stdout.write(
              `${s.email}\t${s.status}\t${s.name ?? ''}\t${s.locale ?? ''}\t${s.topics.join(';')}\n`,
            );
          process.stdout.write(`${rows.length} subscriber(s)\n`);
        }
        return 0;
      }),
    );

  registerPrivacy(sub);
}
