import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Context } from '../context.ts';
import {
  type Progress,
  readerBuilder,
  type SendInput,
  type SendSummary,
  sendingDomain,
} from '../delivery/send.ts';
import { writeVariantsFile } from '../delivery/topics.ts';
import { closeBackend, openBackend } from '../store/backend.ts';
import type { SendState } from '../store/ledger.ts';
import { PgLedger } from '../store/pg/ledger.ts';
import { pgRuns } from '../store/pg/runs.ts';
import { digestForTopics, preparePayload } from './payload.ts';
import { limitBound, openBatches, queueBatches, startBoss } from './queue.ts';
import { newStats, workBatches } from './work.ts';

// `broadsheet send` on a PostgreSQL store (issue 17): queue the edition's rows in
// the ledger, write the payload workers compose from, queue a job per batch,
// then — unless `wait` is false (--no-wait) — take batches like a worker
// until no batch of the edition is waiting or running anywhere, so one host
// with no worker still sends. The summary is the edition's ledger before and after.
// --limit N queues only the edition's first N pending rows (by subscriber id).
// Progress is the ledger's counts, polled once a second; a `runs` row records
// the send as on SQLite (status and report read it).

export const workerName = (role: string) =>
  `${role}@${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

export async function sendOnPostgres(
  ctx: Context,
  input: SendInput,
  opts: {
    transport: string;
    dryRun?: boolean;
    limit?: number;
    wait?: boolean;
    signal?: AbortSignal;
    onProgress?: (p: Progress) => void;
  },
): Promise<SendSummary> {
  const started = performance.now();
  const backend = await openBackend({ kind: 'postgres', url: ctx.paths.store }, ctx.config.store, {
    applicationName: 'broadsheet send',
  });
  if (backend.kind !== 'postgres') throw new Error('unreachable');
  const { pool } = backend;
  const worker = workerName('send');
  const ledger = new PgLedger(pool, backend.url, worker, () => ctx.clock.now());
  const base = {
    edition: input.editionId,
    transport: opts.transport,
    dryRun: Boolean(opts.dryRun),
    retried: 0,
    rendered: 0,
    bytes: 0,
  };
  const finish = (
    before: Record<SendState, number>,
    after: Record<SendState, number>,
    total: number,
  ): SendSummary => {
    const elapsedMs = Math.round(performance.now() - started);
    const sent = after.sent - before.sent;
    return {
      ...base,
      total,
      sent,
      failed: after.failed - before.failed,
      deferred: after.deferred,
      suppressed: after.suppressed - before.suppressed,
      unconfirmed: after.committed,
      ledger: after,
      elapsedMs,
      messagesPerSecond: elapsedMs ? Math.round((sent * 1000) / elapsedMs) : 0,
    };
  };
  try {
    if (opts.dryRun) {
      const rows = await ledger.wouldSend(input.editionId, opts.limit);
      const { payload, variants } = await preparePayload(ctx, pool, input, { dryRun: true });
      const topics = new Map(rows.map((r) => [r.subscriberId, r.topics]));
      const build = readerBuilder(ctx, payload, (id) => digestForTopics(payload, topics.get(id)));
      const domain = sendingDomain(ctx);
      let bytes = 0;
      for (const r of rows)
        bytes += build({ ...r, messageId: `<dry-run.${r.subscriberId}@${domain}>` }).raw.length;
      const counts = await ledger.counts(input.editionId);
      return {
        ...finish(counts, counts, rows.length),
        rendered: rows.length,
        bytes,
        sent: 0,
        ...(variants ? { topicVariants: variants } : {}),
      };
    }
    const runs = pgRuns(pool, backend.url);
    const runId = await runs.startRun('send', input.editionId, ctx.clock.now());
    let out: SendSummary | undefined;
    try {
      out = await sendQueued(ctx, { pool, url: backend.url, ledger, worker, input, opts, finish });
    } catch (err) {
      await Promise.resolve(
        runs.finishRun(runId, 'failed', { error: (err as Error).message }, ctx.clock.now()),
      ).catch(() => {});
      throw err;
    }
    await runs.finishRun(runId, out.failed || out.deferred ? 'failed' : 'ok', out, ctx.clock.now());
    return out;
  } finally {
    await closeBackend(backend).catch(() => {});
  }
}

async function sendQueued(
  ctx: Context,
  a: {
    pool: import('../store/pg/pool.ts').PgPool;
    url: string;
    ledger: PgLedger;
    worker: string;
    input: SendInput;
    opts: Parameters<typeof sendOnPostgres>[2];
    finish: (
      before: Record<SendState, number>,
      after: Record<SendState, number>,
      total: number,
    ) => SendSummary;
  },
): Promise<SendSummary> {
  const { pool, ledger, worker, input, opts, finish } = a;
  const cfg = ctx.config.worker;
  const before = await ledger.counts(input.editionId);
  const added = await ledger.enqueue(input.editionId, sendingDomain(ctx));
  const { built, variants } = await preparePayload(ctx, pool, input);
  if (built.length)
    await writeVariantsFile(ctx, input.editionId, {
      digestFor: () => input.digest,
      variants: built.length,
      compiled: 0,
      built,
    });
  const upTo = opts.limit === undefined ? undefined : await limitBound(pool, input.editionId, opts.limit);
  const total = await ledger.pendingCount(input.editionId, opts.limit);
  const boss = await startBoss(pool, a.url, cfg, {
    supervise: true,
    onError: (err) => ctx.logger.warn({ err: err.message }, `send queue: ${err.message}`),
  });
  try {
    const q = await queueBatches(boss, pool, input.editionId, cfg.batchSize, opts.transport, upTo);
    ctx.logger.info(
      {
        edition: input.editionId,
        transport: opts.transport,
        queued: total,
        added,
        batches: q.batches,
        jobs: q.queued,
      },
      `sending ${input.editionId}: ${total} message(s) in ${q.batches} batch(es) through ${opts.transport}${opts.wait === false ? ' (queued only: --no-wait)' : ''}`,
    );
    if (opts.wait !== false) {
      const stopProgress = pollProgress(ledger, input.editionId, before, total, opts.onProgress);
      try {
        await workBatches({
          ctx,
          pool,
          boss,
          cfg,
          worker,
          signal: opts.signal,
          pollMs: Math.min(1000, cfg.pollSeconds * 1000),
          stats: newStats(),
          until: async () => (await openBatches(pool, input.editionId)) === 0,
        });
      } finally {
        await stopProgress();
      }
    }
  } finally {
    await boss.stop({ graceful: false, wait: true, close: false }).catch(() => {});
  }
  const out = finish(before, await ledger.counts(input.editionId), total);
  if (variants) out.topicVariants = variants;
  if (opts.wait === false) out.left = total;
  return out;
}

/**
 * A fanned-out send's progress: the edition's ledger, polled once a second
 * (every worker on every host counts), reported as done/total. Resolves its
 * stop with one last report.
 */
function pollProgress(
  ledger: PgLedger,
  edition: string,
  before: Record<SendState, number>,
  total: number,
  onProgress: ((p: Progress) => void) | undefined,
): () => Promise<void> {
  if (!onProgress) return async () => {};
  const settled = (c: Record<SendState, number>) => c.sent + c.failed + c.suppressed + c.committed;
  const report = async () => {
    const c = await ledger.counts(edition).catch(() => undefined);
    if (!c) return;
    onProgress({
      done: Math.min(total, Math.max(0, settled(c) - settled(before))),
      total,
      sent: c.sent - before.sent,
      failed: c.failed - before.failed,
      deferred: Math.max(0, c.deferred - before.deferred),
      retried: 0,
    });
  };
  let busy: Promise<void> | undefined;
  const timer = setInterval(() => {
    busy ??= report().finally(() => {
      busy = undefined;
    });
  }, 1000);
  return async () => {
    clearInterval(timer);
    await busy;
    await report();
  };
}
