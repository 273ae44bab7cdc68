import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem } from '../content/problems.ts';
import { readSubscribersCsv } from '../content/subscribers.ts';
import type { Context } from '../context.ts';
import { defaultTransport, deliver, formatSummary } from '../delivery/deliver.ts';
import type { SendSummary } from '../delivery/send.ts';
import { BroadsheetError } from '../errors/index.ts';
import { isPgUrl } from '../store/backend.ts';
import { openStore } from '../store/db.ts';
import { type Subscriber, SubscriberRepo } from '../store/subscribers.ts';
import type { BuildResult } from './build.ts';

/**
 * deliver()'s options with the run's abort signal. Passed as a variable, not
 * a literal: `signal` is for src/delivery to honour (stop before the next
 * message, close the transport), whether or not its options type names it yet.
 */
export function sendOptions(transport: string | undefined, signal: AbortSignal | undefined) {
  const opts: { transport?: string; signal?: AbortSignal } = { transport, signal };
  return opts;
}

/** Transports that never leave this machine: the sample readers may go there. */
const LOCAL_TRANSPORTS = new Set(['outbox', 'json']);

/**
 * Domains reserved for examples and tests (RFC 2606, RFC 6761): mail to them
 * can never reach a person. The sample readers in content/subscribers.csv
 * all live there.
 */
export const isReservedAddress = (email: string) =>
  /@(?:[^@]+\.)?(?:example\.(?:com|net|org)|example|test|invalid|localhost)$/i.test(email.trim());

/**
 * The digest job's delivery: the store-backed send of the edition just built,
 * through the job's transport, else smtp when SMTP_URL is set, else the outbox
 * (one .eml per reader in out/<edition>/outbox/ — what `npm start` does with
 * no SMTP and no env). Running it again sends only what is left (the ledger).
 *
 * The sample readers must never reach a real SMTP server, so:
 * - only for a local transport, and only on an empty store, is
 *   content/subscribers.csv imported first;
 * - through any other transport, an empty store means nothing to deliver
 *   (said so, and how to add readers; no connection is made), and a store
 *   still holding readers at reserved example domains (imported by an
 *   earlier outbox run) is refused with SAMPLE_READERS_SMTP.
 */
export async function deliverDigest(
  ctx: Context,
  b: BuildResult,
  opts: { transport?: string; signal?: AbortSignal } = {},
): Promise<{ transport: string; summary?: SendSummary; note?: string }> {
  const transport = opts.transport ?? defaultTransport(ctx);
  if (!b.digest) return { transport };
  if (isPgUrl(ctx.paths.store)) {
    // A shared store: readers are imported on purpose (never the sample), and the guard is the same.
    if (!(await guardRealTransportPg(ctx, transport)))
      return { transport, note: `nothing delivered through ${transport}: no readers in the store` };
  } else if (LOCAL_TRANSPORTS.has(transport)) {
    if (transport === 'outbox') await importSampleOnce(ctx);
  } else if (!guardRealTransport(ctx, transport))
    return {
      transport,
      note: `nothing delivered through ${transport}: no readers in the store (see the warning above)`,
    };
  opts.signal?.throwIfAborted();
  const summary = await deliver(
    ctx,
    { editionId: b.edition.id, list: b.edition.name, listName: b.edition.title, digest: b.digest },
    sendOptions(transport, opts.signal),
  );
  ctx.logger.info({ summary: { ...summary, ledger: undefined } }, formatSummary(summary));
  return { transport, summary };
}

/** False when there is nobody to deliver to (said why); throws when sample readers would go out. */
function guardRealTransport(ctx: Context, transport: string): boolean {
  const db = openStore(ctx.paths.store);
  let active: Subscriber[];
  try {
    active = new SubscriberRepo(db, () => ctx.clock.now()).list({ status: 'active' });
  } finally {
    db.close();
  }
  const sample = active.filter((s) => isReservedAddress(s.email));
  if (sample.length)
    throw new BroadsheetError('SAMPLE_READERS_SMTP', {
      count: sample.length,
      examples: sample.slice(0, 3).map((s) => s.email),
      transport,
    });
  if (active.length) return true;
  const csv = join(ctx.paths.content, 'subscribers.csv');
  ctx.logger.warn(
    { transport, store: ctx.paths.store },
    `no readers in the store: nothing delivered through ${transport}.` +
      (existsSync(csv)
        ? ` The sample readers in ${csv} are imported only for the outbox (SMTP_URL or delivery.transport selects ${transport}): they must never reach a real mail server.`
        : '') +
      ' Add your readers with `broadsheet subscribers import <file>` (or unset SMTP_URL to try the outbox).',
  );
  return false;
}

async function importSampleOnce(ctx: Context) {
  const csv = join(ctx.paths.content, 'subscribers.csv');
  const db = openStore(ctx.paths.store);
  try {
    const repo = new SubscriberRepo(db, () => ctx.clock.now());
    if (repo.count() > 0) return;
    if (!existsSync(csv)) {
      ctx.logger.warn({ csv }, 'no subscribers in the store and no subscribers.csv: nothing to deliver');
      return;
    }
    const { rows, problems } = await readSubscribersCsv(csv);
    for (const p of problems) ctx.logger.warn(formatProblem(p));
    const counts = repo.upsertMany(
      rows.map(({ line: _line, ...r }) => r),
      'import:content/subscribers.csv',
    );
    ctx.logger.info(
      { csv, ...counts },
      `imported ${counts.added} subscriber(s) from subscribers.csv into the empty store`,
    );
  } finally {
    db.close();
  }
}

/** guardRealTransport on a PostgreSQL store: sample readers never go out; no readers, nothing to do. */
async function guardRealTransportPg(ctx: Context, transport: string): Promise<boolean> {
  const { openPgPool, pgError } = await import('../store/pg/pool.ts');
  const pool = await openPgPool(ctx.paths.store, { ...ctx.config.store, poolMax: 1 }, 'broadsheet run');
  try {
    const q = <T>(sql: string, args: unknown[] = []) =>
      pool.query<T & object>(sql, args).then(
        (r) => r.rows,
        (err) => {
          throw pgError(err, ctx.paths.store);
        },
      );
    const [{ n }] = (await q<{ n: number }>(
      "SELECT count(*) AS n FROM subscribers WHERE status = 'active'",
    )) as [{ n: number }];
    // The same domains as isReservedAddress, in PostgreSQL's regex dialect; only a few are fetched.
    const reserved = '@([^@]+[.])?(example[.](com|net|org)|example|test|invalid|localhost)$';
    const sample = await q<{ email: string; n: number }>(
      "SELECT email, count(*) OVER () AS n FROM subscribers WHERE status = 'active' AND email ~* $1 LIMIT 3",
      [reserved],
    );
    if (sample.length && !LOCAL_TRANSPORTS.has(transport))
      throw new BroadsheetError('SAMPLE_READERS_SMTP', {
        count: sample[0]!.n,
        examples: sample.map((x) => x.email),
        transport,
      });
    if (!n)
      ctx.logger.warn(
        { transport },
        `no readers in the store: nothing delivered through ${transport}. Add your readers with \`broadsheet subscribers import <file>\`.`,
      );
    return n > 0;
  } finally {
    await pool.end().catch(() => {});
  }
}
