import { appSecret } from '../config/secret.ts';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { type Backend, closeBackend, openBackend, parseStoreTarget } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { acquireLease, isLease } from '../store/lease.ts';
import type { QueueRow, ReviewStore } from '../store/review.ts';
import { SOCIAL_NAMES } from './config.ts';
import { cardFile, items, loadEdition, postKey } from './editions.ts';
import { PublishError, type Publisher, type PublishPost } from './publisher.ts';
import { publishers as registry } from './publishers/index.ts';
import { readySocial } from './social.ts';
import { publishHoldMs, webStoresFor } from './stores.ts';

// The publish queue runner (`broadsheet publish`, scheduler job kind publish).
//
// Exactly once, by construction:
// - one runner at a time (a lease row in SQLite);
// - a row is marked `sending` (its attempt counted) before the publisher runs,
//   `published` right after it returns; each its own committed transaction;
// - a row found `sending` at start belongs to a runner that died mid-attempt:
//   it is sent again with the SAME idempotency key (webhook receivers drop the
//   repeat; the folder publisher rewrites identical files). That is the one
//   case a receiver may see a key twice, and why the key is in every request;
// - a `published` row is never picked up again.
// On a PostgreSQL store (issue 17) several runners — `serve` replicas and
// `broadsheet publish` on any host — work the queue at once: instead of the
// one lease, each row is claimed by one runner (src/store/pg/review.ts), and
// a row whose runner died is taken over once its claim lapses.

export interface PublishSummary {
  published: number;
  deferred: number;
  failed: number;
  recovered: number;
  skipped: number;
  rows: {
    id: number;
    publisher: string;
    edition: string;
    itemId: string;
    platform: string;
    state: string;
    error?: string;
  }[];
}

export interface PublishOptions {
  db?: DB;
  /** The store to use (serve passes its own; default: the one ctx.paths.store names). */
  backend?: Backend;
  /** For tests: a sleep that does not wait, a fixed jitter. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Publishers to use instead of the configured ones (tests). */
  publishers?: Publisher[];
  /** Where social credentials are read from (default process.env; tests pass their own). */
  env?: NodeJS.ProcessEnv;
}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function postFor(ctx: Context, row: QueueRow): PublishPost {
  const e = loadEdition(ctx.paths.out, row.edition);
  if (!e) throw new PublishError(`edition ${row.edition} not found under ${ctx.paths.out}`, true);
  const card =
    e.manifest.cards.find((c) => c.itemId === row.itemId && c.format === row.format) ??
    e.manifest.cards.find((c) => c.itemId === row.itemId);
  const file = card && cardFile(e, card);
  if (!card || !file) throw new PublishError(`no card for ${row.itemId} (${row.format})`, true);
  // The key hashes the card the editor saw: a card re-rendered since then is not what was approved.
  const key = postKey({ ...row, format: card.format, cardSha256: card.sha256 });
  if (key !== row.key)
    throw new PublishError(`card ${card.id} changed since it was approved; approve it again`, true);
  const it = items(e, [], [], {}).find((i) => i.id === row.itemId);
  return {
    key: row.key,
    edition: row.edition,
    itemId: row.itemId,
    platform: row.platform,
    format: card.format,
    caption: row.caption,
    editor: row.editor,
    approvedAt: row.createdAt,
    card: { file, sha256: card.sha256, width: card.width, height: card.height, kind: card.kind },
    title: it?.title,
    url: it?.url,
    // What the card shows, in words: the headline, and for 數讀 the figure line under it.
    alt: [it?.title ?? row.itemId, it?.subtitle].filter(Boolean).join('：'),
  };
}

export async function runPublishQueue(ctx: Context, opts: PublishOptions = {}): Promise<PublishSummary> {
  const given: Backend | undefined =
    opts.backend ?? (opts.db ? { kind: 'sqlite', db: opts.db, file: ctx.paths.store } : undefined);
  const backend =
    given ??
    (await openBackend(parseStoreTarget(ctx.paths.store), ctx.config.store, {
      applicationName: 'broadsheet publish',
    }));
  try {
    return await run(ctx, backend, opts);
  } finally {
    if (!given) await closeBackend(backend);
  }
}

/** The one SQLite lease, or (PostgreSQL) nothing global: each row is claimed on its own. */
function holdQueue(ctx: Context, backend: Backend, repo: ReviewStore) {
  if (backend.kind === 'postgres')
    return {
      renew: () => true,
      renewRow: async (id: number) => (await repo.renewClaim?.(id)) ?? true,
      release() {},
    };
  const lease = acquireLease(backend.db, 'publish', publishHoldMs(ctx));
  if (!isLease(lease)) throw new BroadsheetError('PUBLISH_IN_PROGRESS', { pid: lease.pid, host: lease.host });
  return { renew: lease.renew, renewRow: () => lease.renew(), release: lease.release };
}

async function run(ctx: Context, backend: Backend, opts: PublishOptions): Promise<PublishSummary> {
  const cfg = ctx.config.review;
  const sleep = opts.sleep ?? sleepReal;
  const random = opts.random ?? Math.random;
  const repo = webStoresFor(ctx, backend).review;
  const secret = appSecret(ctx);
  // Social platforms join the configured publishers when their credentials are set;
  // their rows go only at the time an editor scheduled.
  const social = readySocial(ctx, opts.env).map((s) => s.platform.create(ctx, s.env));
  const pubs = new Map(
    (opts.publishers ?? [...cfg.publishers.map((n) => registry[n](ctx, secret)), ...social]).map(
      (p) => [p.name, p] as const,
    ),
  );
  const scheduled = [...SOCIAL_NAMES];
  const summary: PublishSummary = {
    published: 0,
    deferred: 0,
    failed: 0,
    recovered: 0,
    skipped: 0,
    rows: [],
  };

  const lease = holdQueue(ctx, backend, repo);
  try {
    summary.recovered = await repo.recoverSending();
    if (summary.recovered)
      ctx.logger.warn({ rows: summary.recovered }, 'publish: resuming posts a stopped run left mid-send');
    let after = 0;
    for (;;) {
      const row = await repo.claimNext([...pubs.keys()], after, scheduled);
      if (!row) break;
      after = row.id;
      const log = {
        id: row.id,
        publisher: row.publisher,
        edition: row.edition,
        item: row.itemId,
        platform: row.platform,
      };
      const outcome = await attempt(ctx, repo, row, pubs.get(row.publisher)!, {
        sleep,
        random,
        renew: () => lease.renewRow(row.id),
      });
      summary.rows.push({ ...log, itemId: row.itemId, state: outcome.state, error: outcome.error });
      if (outcome.state === 'published') {
        summary.published++;
        ctx.logger.info({ ...log, key: row.key }, 'published');
      } else if (outcome.state === 'failed') {
        summary.failed++;
        ctx.logger.error({ ...log, err: outcome.error }, 'publish failed; an editor must approve it again');
      } else {
        summary.deferred++;
        ctx.logger.warn({ ...log, err: outcome.error }, 'publish deferred to the next run');
      }
      if (!lease.renew())
        throw new BroadsheetError('PUBLISH_IN_PROGRESS', { pid: 0, host: 'another runner' });
    }
    summary.skipped = await repo.queuedElsewhere([...pubs.keys()]);
  } finally {
    lease.release();
  }
  return summary;
}

/** The publisher's look for an earlier attempt's post; its failure says that is what failed. */
async function lookFor(pub: Publisher, post: PublishPost) {
  try {
    return await pub.find!(post);
  } catch (err) {
    const e =
      err instanceof PublishError ? err : new PublishError(String((err as Error).message ?? err), false);
    throw new PublishError(
      `could not check whether an earlier attempt already posted it: ${e.message}`,
      e.permanent,
      e.retryAfterMs,
      { cause: err },
    );
  }
}

async function attempt(
  ctx: Context,
  repo: ReviewStore,
  row: QueueRow,
  pub: Publisher,
  t: { sleep: (ms: number) => Promise<void>; random: () => number; renew: () => boolean | Promise<boolean> },
): Promise<{ state: 'published' | 'queued' | 'failed'; error?: string }> {
  const cfg = ctx.config.review;
  const social = (SOCIAL_NAMES as readonly string[]).includes(pub.name);
  const perRun = pub.name === 'webhook' ? cfg.webhook.attempts : social ? cfg.social.attempts : 2;
  let attempts = row.attempts;
  // An earlier attempt (this run's, or one a crash cut short) may have reached the
  // platform: where the publisher can look, the post is looked for before sending again.
  let uncertain = row.attempts > 1;
  for (let i = 0; ; i++) {
    try {
      const post = postFor(ctx, row);
      const found = uncertain && pub.find ? await lookFor(pub, post) : undefined;
      if (found)
        ctx.logger.warn(
          { id: row.id, url: found.url },
          'publish: the post was already there; not sent again',
        );
      const r = found ?? (await pub.publish(post));
      await repo.markPublished(row.id, r.response, { id: r.postId, url: r.url });
      return { state: 'published' };
    } catch (err) {
      uncertain = true;
      const e =
        err instanceof PublishError
          ? err
          : new PublishError((err as Error).message ?? String(err), false, undefined, { cause: err });
      // A rate limit that resets far ahead: the next run sends it, this one does not sit waiting.
      if (!e.permanent && (e.retryAfterMs ?? 0) > cfg.social.maxWaitMs) {
        await repo.markFailed(row.id, 'queued', e.message);
        return { state: 'queued', error: e.message };
      }
      const final = e.permanent || attempts >= cfg.maxAttempts;
      if (final) {
        await repo.markFailed(row.id, 'failed', e.message);
        return { state: 'failed', error: e.message };
      }
      if (i + 1 >= perRun) {
        await repo.markFailed(row.id, 'queued', e.message);
        return { state: 'queued', error: e.message };
      }
      // Exponential backoff with full jitter; a Retry-After the receiver sent wins when longer.
      const base = cfg.webhook.backoffMs * 2 ** i;
      const wait = Math.max(
        Math.round(base / 2 + (t.random() * base) / 2),
        Math.min(e.retryAfterMs ?? 0, Math.max(60_000, cfg.social.maxWaitMs)),
      );
      ctx.logger.warn(
        { id: row.id, attempt: attempts, waitMs: wait, err: e.message },
        'publish attempt failed; retrying',
      );
      await t.sleep(wait);
      // Long backoffs must not let the lease lapse: another runner would resend this row.
      // If it lapsed anyway, the runner that took over owns this row now: leave it alone.
      if (!(await t.renew())) return { state: 'queued', error: 'lease lost to another runner' };
      await repo.countAttempt(row.id);
      attempts++;
    }
  }
}
