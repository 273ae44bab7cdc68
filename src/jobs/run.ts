import { join } from 'node:path';
import { displayPath } from '../content/problems.ts';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { ingestFeeds, type Job, sendTransport } from '../scheduler/config.ts';
import { buildEdition, buildSummary } from './build.ts';
import { deliverDigest, sendOptions } from './deliver.ts';
import { readManifest } from './manifest.ts';

export type { Job } from '../scheduler/config.ts';

export interface JobResult {
  job: string;
  kind: Job['kind'];
  ok: boolean;
  edition?: string;
  dir?: string;
  cards?: number;
  failures?: number;
  delivered?: number;
  /** What the run did, by name (articles written, messages sent…): stored with the run record. */
  counts?: Record<string, number>;
  summary: string;
}

/**
 * One job, once. The scheduler (src/scheduler/execute.ts) wraps this in a
 * lease, a run record and the job's time limit; `signal` aborts when the run
 * must stop. Each job checks it between its stages and hands it to the stage
 * that can wait longest (the send loop), so a stopped run does not start the
 * next stage or the next message.
 */
export async function runJob(
  ctx: Context,
  job: Job,
  opts: { signal?: AbortSignal } = {},
): Promise<JobResult> {
  const { signal } = opts;
  signal?.throwIfAborted();
  switch (job.kind) {
    case 'build':
    case 'digest': {
      const b = await buildEdition(ctx, { name: job.edition });
      signal?.throwIfAborted();
      const base = {
        job: job.name,
        kind: job.kind,
        edition: b.edition.id,
        dir: b.dir,
        cards: b.manifest.cards.length,
        failures: b.manifest.failures.length,
      };
      let line = buildSummary(b);
      let delivered: number | undefined;
      let ok = b.manifest.failures.length === 0;
      if (job.kind === 'digest' && b.digest) {
        const { formatSummary, undelivered } = await import('../delivery/deliver.ts');
        const d = await deliverDigest(ctx, b, { transport: sendTransport(job), signal });
        if (d.note) line += `\n${d.note}`;
        if (d.summary) {
          delivered = d.summary.sent;
          ok &&= !undelivered(d.summary);
          line += `\n${formatSummary(d.summary)}`;
          if (d.transport === 'outbox') line += `\n.eml files → ${displayPath(join(b.dir, 'outbox'))}/`;
        }
      }
      const counts = {
        articles: b.edition.articles.length,
        stats: b.edition.stats.length,
        cards: base.cards,
        failures: base.failures,
        ...(delivered !== undefined && { delivered }),
      };
      return { ...base, ok, delivered, counts, summary: line };
    }
    case 'ingest':
      return ingestJob(ctx, job, signal);
    case 'send':
      return sendJob(ctx, job, signal);
    case 'cards':
      return cardsJob(ctx, job);
    case 'publish':
      return publishJob(ctx, job);
    default:
      throw new BroadsheetError('JOB_KIND_UNAVAILABLE', { name: job.name, kind: job.kind });
  }
}

/**
 * Stop waiting for `work` when `signal` aborts (rejecting with its reason).
 * For a stage that holds nothing that must be cleaned up in order: a feed
 * fetch left behind still ends at its own 15 s limit (its article writes are
 * atomic and idempotent). Not for the send loop, which must itself stop
 * between messages: abandoning it would leave it sending.
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** Every feed in options.feeds; one failing feed is reported and the others still run. */
async function ingestJob(ctx: Context, job: Job, signal?: AbortSignal): Promise<JobResult> {
  const feeds = ingestFeeds(job);
  const { ingestFeed } = await import('../content/feeds/ingest.ts');
  const counts = { feeds: feeds.length, written: 0, unchanged: 0, skipped: 0, notModified: 0, errors: 0 };
  const lines: string[] = [];
  for (const f of feeds) {
    signal?.throwIfAborted();
    const { url, ...opts } = typeof f === 'string' ? { url: f } : f;
    try {
      const r = await unlessAborted(ingestFeed(ctx, url, opts), signal);
      counts.written += r.written.length;
      counts.unchanged += r.unchanged.length;
      counts.skipped += r.skipped.length;
      if (r.notModified) counts.notModified++;
      lines.push(
        r.notModified
          ? `${url}: not modified`
          : `${url}: ${r.written.length} written, ${r.unchanged.length} unchanged, ${r.skipped.length} skipped`,
      );
    } catch (err) {
      if (signal?.aborted) throw err;
      counts.errors++;
      const code = err instanceof BroadsheetError ? `${err.code}: ` : '';
      lines.push(`${url}: failed — ${code}${(err as Error).message}`);
      ctx.logger.error({ job: job.name, feed: url, err }, `ingest of ${url} failed`);
    }
  }
  if (!feeds.length) lines.push(`no feeds configured: add them under the job's options.feeds`);
  return { job: job.name, kind: job.kind, ok: counts.errors === 0, counts, summary: lines.join('\n') };
}

/** The edition a job means: its edition's latest day with content. */
async function jobEdition(ctx: Context, job: Job) {
  const { editionFromContent } = await import('./edition.ts');
  return (await editionFromContent(ctx, { name: job.edition })).edition;
}

/** Send what `build` staged (or render it), through the job's transport or the default one. */
async function sendJob(ctx: Context, job: Job, signal?: AbortSignal): Promise<JobResult> {
  const [{ loadSendInput }, { deliver, formatSummary, undelivered }] = await Promise.all([
    import('../delivery/edition.ts'),
    import('../delivery/deliver.ts'),
  ]);
  const input = await loadSendInput(ctx, (await jobEdition(ctx, job)).id);
  signal?.throwIfAborted();
  const s = await deliver(ctx, input, sendOptions(sendTransport(job), signal));
  return {
    job: job.name,
    kind: job.kind,
    ok: !undelivered(s),
    edition: s.edition,
    delivered: s.sent,
    counts: {
      total: s.total,
      sent: s.sent,
      failed: s.failed,
      deferred: s.deferred,
      suppressed: s.suppressed,
      ...(s.unconfirmed ? { unconfirmed: s.unconfirmed } : {}),
    },
    summary: formatSummary(s),
  };
}

/** Cards only (PNGs + captions into out/<edition>/cards/); the manifest is `build`'s to write. */
async function cardsJob(ctx: Context, job: Job): Promise<JobResult> {
  const { renderCards } = await import('../cards/index.ts');
  const edition = await jobEdition(ctx, job);
  const dir = join(ctx.paths.out, edition.id);
  const previous = await readManifest(dir);
  const r = await renderCards(edition, ctx, { editionDir: dir, previous: previous?.cards });
  return {
    job: job.name,
    kind: job.kind,
    ok: r.failures.length === 0,
    edition: edition.id,
    dir,
    cards: r.cards.length,
    failures: r.failures.length,
    counts: { cards: r.cards.length, failures: r.failures.length, posts: r.posts.length },
    summary: `cards for ${edition.id}: ${r.cards.length} card(s), ${r.failures.length} failure(s) → ${displayPath(dir)}/cards/`,
  };
}

interface PublishModule {
  runPublishQueue(
    ctx: Context,
  ): Promise<{ published: number; deferred: number; failed: number; skipped: number }>;
}

/**
 * Approved posts out to the configured publishers (src/review/publish.ts,
 * the review app's). Imported by a computed path so this file does not
 * depend on it at type level; when it is missing the kind is unavailable.
 */
async function publishJob(ctx: Context, job: Job): Promise<JobResult> {
  let mod: PublishModule;
  try {
    mod = (await import(new URL('../review/publish.ts', import.meta.url).href)) as PublishModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new BroadsheetError('JOB_KIND_UNAVAILABLE', { name: job.name, kind: job.kind }, { cause: err });
  }
  if (typeof mod.runPublishQueue !== 'function')
    throw new BroadsheetError('JOB_KIND_UNAVAILABLE', { name: job.name, kind: job.kind });
  const s = await mod.runPublishQueue(ctx);
  return {
    job: job.name,
    kind: job.kind,
    ok: s.failed === 0,
    counts: { published: s.published, deferred: s.deferred, failed: s.failed, skipped: s.skipped },
    summary: `published ${s.published}, deferred ${s.deferred}, failed ${s.failed}, skipped ${s.skipped}`,
  };
}
