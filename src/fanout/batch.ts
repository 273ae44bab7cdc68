import { join } from 'node:path';
import type { Context } from '../context.ts';
import { closeQuietly, type LeaseGuard } from '../delivery/guards.ts';
import { readerBuilder, type SendOptions } from '../delivery/send.ts';
import { sendAll } from '../delivery/send-loop.ts';
import { transports } from '../delivery/transports/index.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { PgLedger, PgLedgerRow } from '../store/pg/ledger.ts';
import type { PgPool } from '../store/pg/pool.ts';
import type { WorkerConfig } from './config.ts';
import type { DotJournal } from './journal.ts';
import { digestForTopics, type FanoutPayload, knowsTopics } from './payload.ts';
import type { BatchJob } from './queue.ts';

// One batch of an edition, sent by one worker: claim its pending rows (rows a
// live claim of another worker holds are left to it), send them through the
// send loop on the PostgreSQL ledger (each row a compare-and-set commit before
// its message starts), renew the claims every third of the lease while
// sending. Rows a killed worker had claimed come free when its claims expire;
// rows it had committed stay committed (in doubt, never resent).

export interface BatchEnv {
  ctx: Context;
  pool: PgPool;
  ledger: PgLedger;
  cfg: WorkerConfig;
  payload: (edition: string, fresh?: boolean) => Promise<FanoutPayload>;
  /** The global pace per transport, when worker.rateLimit is set. */
  pace?: (transport: string) => () => Promise<void>;
  /** True once the worker must stop gracefully (SIGTERM). */
  halting: () => boolean;
  sleep: (ms: number) => Promise<void>;
  /** The host-local dot journal: a line per row right before its "." (src/fanout/journal.ts). */
  journal?: DotJournal;
}

export interface BatchResult {
  /** Finished: every row of the batch is settled or left deferred for the next send. */
  done: boolean;
  sent: number;
  failed: number;
  deferred: number;
  suppressed: number;
  /** Why the send loop stopped early (the batch's rows it did not try are left deferred with this code). */
  stopped?: string;
}

/** Stops that give the batch back to the queue rather than leaving its rows for the next send. */
const RETRY_BATCH = new Set<string>(['SEND_LEASE_LOST', 'STORE_PG_UNREACHABLE']);

export async function runBatch(env: BatchEnv, job: BatchJob): Promise<BatchResult> {
  const { ctx, ledger, cfg } = env;
  const leaseMs = cfg.leaseSeconds * 1000;
  let input = await env.payload(job.edition);
  const factory = transports[job.transport];
  if (!factory)
    throw new BroadsheetError('SEND_TRANSPORT_UNKNOWN', {
      name: job.transport,
      known: Object.keys(transports),
    });
  // This batch's share of the worker's SMTP connections.
  const connections = Math.max(1, Math.floor(cfg.connections / cfg.concurrency));
  const bctx: Context = {
    ...ctx,
    config: { ...ctx.config, delivery: { ...ctx.config.delivery, connections } },
  };
  // Each reader's topic variant (issue 14), by the topics on the row as claimed.
  const topicsOf = new Map<number, string | null | undefined>();
  const build = readerBuilder(bctx, input, (id) => digestForTopics(input, topicsOf.get(id)));
  const out: BatchResult = { done: false, sent: 0, failed: 0, deferred: 0, suppressed: 0 };
  const seen = new Set<number>();
  try {
    for (;;) {
      if (env.halting()) return out;
      const claimed = await ledger.claim(job.edition, job.lo, job.hi, leaseMs);
      const rows = claimed.filter((r) => !seen.has(r.subscriberId));
      // A topic set this process's copy of the payload has not considered: a later send may have added it.
      if (rows.some((r) => !knowsTopics(input, r.topics))) input = await env.payload(job.edition, true);
      for (const r of rows) topicsOf.set(r.subscriberId, r.topics);
      if (rows.length) {
        const stop = await sendRows(env, bctx, job, rows, build, out);
        for (const r of rows) seen.add(r.subscriberId);
        if (stop) {
          out.stopped = stop.code;
          // The claims lapsed (renewals could not reach the store, e.g. PostgreSQL
          // cut the connections) or the store is unreachable: nothing is wrong
          // with the send itself. The batch is given back (not done): pg-boss
          // retries it at once on any worker, and its untried rows are claimed
          // again instead of waiting for the next send (fanout-pg-cut).
          if (RETRY_BATCH.has(stop.code)) return out;
          // What the loop did not try waits for the next send, with the reason.
          await ledger.deferClaimed(job.edition, job.lo, job.hi, `${stop.code}: ${stop.message}`);
          out.done = true;
          return out;
        }
        if (env.halting()) return out;
        continue;
      }
      const st = await ledger.batchState(job.edition, job.lo, job.hi);
      if (st.heldElsewhere === 0) {
        out.done = true;
        return out;
      }
      // Another worker holds rows of this batch: wait for it to finish them or for its claims to lapse.
      await env.sleep(Math.min(leaseMs, Math.max(200, st.waitMs + 50)));
    }
  } finally {
    // Rows still claimed here (given back on SIGTERM, or tried and deferred): free for whoever comes next.
    await ledger.release(job.edition, job.lo, job.hi).catch(() => {});
  }
}

async function sendRows(
  env: BatchEnv,
  bctx: Context,
  job: BatchJob,
  rows: PgLedgerRow[],
  build: ReturnType<typeof readerBuilder>,
  out: BatchResult,
): Promise<BroadsheetError | undefined> {
  const { ledger, cfg } = env;
  const leaseMs = cfg.leaseSeconds * 1000;
  const transport = transports[job.transport]!({
    ctx: bctx,
    editionDir: join(bctx.paths.out, job.edition),
  });
  const status = new Map(rows.map((r) => [r.subscriberId, r.subscriberStatus]));
  // The claims are the lease: renewed every third of it; a renewal that cannot
  // reach the store for two thirds of it means another worker may take the rows.
  let renewedAt = performance.now();
  let lost: string | undefined;
  const timer = setInterval(() => {
    ledger.renew(job.edition, job.lo, job.hi, leaseMs).then(
      () => {
        renewedAt = performance.now();
      },
      (err: Error) => {
        if (performance.now() - renewedAt > (leaseMs * 2) / 3) lost ??= `claims not renewed: ${err.message}`;
      },
    );
  }, leaseMs / 3);
  const guard: LeaseGuard = {
    held: () => !lost && performance.now() - renewedAt < (leaseMs * 2) / 3,
    get lost() {
      return lost ?? 'claims not renewed in time';
    },
    stop: () => clearInterval(timer),
  };
  const s = { total: rows.length, sent: 0, retried: 0, failed: 0, deferred: 0, suppressed: 0, bytes: 0 };
  const opts: SendOptions = { transport };
  try {
    const loop = await sendAll({
      ctx: bctx,
      statusOf: (id) => status.get(id),
      ledger,
      edition: job.edition,
      rows,
      build,
      s,
      guard,
      opts,
      pace: env.pace?.(job.transport),
      halt: env.halting,
      onDot: env.journal && ((edition, id) => env.journal!.dot(edition, id)),
    });
    out.sent += s.sent;
    out.failed += s.failed;
    out.deferred += s.deferred;
    out.suppressed += s.suppressed;
    return loop.stopped;
  } finally {
    guard.stop();
    await closeQuietly(transport);
  }
}
