import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Context } from '../context.ts';
import { readerBuilder, type SendInput, type SendSummary, sendingDomain } from '../delivery/send.ts';
import { UsageError } from '../errors/index.ts';
import { closeBackend, openBackend } from '../store/backend.ts';
import type { SendState } from '../store/ledger.ts';
import { PgLedger } from '../store/pg/ledger.ts';
import { writePayload } from './payload.ts';
import { openBatches, queueBatches, startBoss } from './queue.ts';
import { newStats, workBatches } from './work.ts';

// `broadsheet send` on a PostgreSQL store (issue 17): queue the edition's rows in
// the ledger, write the payload workers compose from, queue a job per batch,
// then — unless `wait` is false (--no-wait) — take batches like a worker
// until no batch of the edition is waiting or running anywhere, so one host
// with no worker still sends. The summary is the edition's ledger before and after.

export const workerName = (role: string) =>
  `${role}@${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

export async function sendOnPostgres(
  ctx: Context,
  input: SendInput,
  opts: { transport: string; dryRun?: boolean; limit?: number; wait?: boolean; signal?: AbortSignal },
): Promise<SendSummary> {
  if (opts.limit !== undefined)
    throw new UsageError(
      '--limit is not available on the PostgreSQL store: the send is split into batches for every worker',
    );
  const started = performance.now();
  const backend = await openBackend({ kind: 'postgres', url: ctx.paths.store }, ctx.config.store, {
    applicationName: 'broadsheet send',
  });
  if (backend.kind !== 'postgres') throw new Error('unreachable');
  const { pool } = backend;
  const cfg = ctx.config.worker;
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
      const rows = await ledger.wouldSend(input.editionId);
      const build = readerBuilder(ctx, input, () => input.digest);
      const domain = sendingDomain(ctx);
      let bytes = 0;
      for (const r of rows)
        bytes += build({ ...r, messageId: `<dry-run.${r.subscriberId}@${domain}>` }).raw.length;
      const counts = await ledger.counts(input.editionId);
      return { ...finish(counts, counts, rows.length), rendered: rows.length, bytes, sent: 0 };
    }
    const before = await ledger.counts(input.editionId);
    const added = await ledger.enqueue(input.editionId, sendingDomain(ctx));
    await writePayload(pool, input, ctx.clock.now());
    const total = await ledger.pendingCount(input.editionId);
    const boss = await startBoss(pool, backend.url, cfg, {
      supervise: true,
      onError: (err) => ctx.logger.warn({ err: err.message }, `send queue: ${err.message}`),
    });
    try {
      const q = await queueBatches(boss, pool, input.editionId, cfg.batchSize, opts.transport);
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
      }
    } finally {
      await boss.stop({ graceful: false, wait: true, close: false }).catch(() => {});
    }
    const out = finish(before, await ledger.counts(input.editionId), total);
    if (opts.wait === false) out.left = total;
    return out;
  } finally {
    await closeBackend(backend).catch(() => {});
  }
}
