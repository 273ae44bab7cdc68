import { resolve } from 'node:path';
import type { Command } from 'commander';
import { appSecret } from '../../config/secret.ts';
import { displayPath, formatProblem } from '../../content/problems.ts';
import type { Context } from '../../context.ts';
import { tokenKeys } from '../../delivery/tokens.ts';
import { BroadsheetError, UsageError } from '../../errors/index.ts';
import { action, createContext, globalsOf, printJson } from '../app.ts';
import { registerPrivacy } from './subscribers-privacy.ts';

async function withStore<T>(
  ctx: Context,
  fn: (repo: import('../../store/index.ts').SubscriberRepo) => T | Promise<T>,
) {
  const { openStore, storeError, SubscriberRepo } = await import('../../store/index.ts');
  const db = openStore(ctx.paths.store);
  try {
    return await fn(new SubscriberRepo(db, () => ctx.clock.now()));
  } catch (err) {
    // A full disk or a damaged page found mid-import is named like one found at open.
    throw /^SQLITE_(FULL|CORRUPT|NOTADB|READONLY|IOERR)/.test((err as { code?: string }).code ?? '')
      ? storeError(err, ctx.paths.store)
      : err;
  } finally {
    db.close();
  }
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
        const { counts, suppressed } = await withStore(ctx, async (repo) => {
          const { SuppressionList } = await import('../../store/suppression.ts');
          const list = new SuppressionList(repo.db, keys, () => ctx.clock.now());
          // Forgotten (and otherwise suppressed) addresses are skipped: only the reader can come back.
          const rows = csv.rows.map(({ line: _line, ...r }) => r);
          // An empty suppression list (the common case) costs no per-row hash and lookup.
          const allowed = list.count() === 0 ? rows : rows.filter((r) => !list.reason(r.email));
          return {
            counts: repo.upsertMany(allowed, `import:${shown}`),
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
          const outcome = await withStore(ctx, async (repo) => {
            const { SuppressionList } = await import('../../store/suppression.ts');
            const reason = new SuppressionList(repo.db, keys).reason(r.data.email);
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
