import type PgBoss from 'pg-boss';
import type { Context } from '../context.ts';
import { isBroadsheetError } from '../errors/index.ts';
import { PgLedger } from '../store/pg/ledger.ts';
import { connectionLost } from '../store/pg/lost.ts';
import type { PgPool } from '../store/pg/pool.ts';
import { type BatchEnv, runBatch } from './batch.ts';
import type { WorkerConfig } from './config.ts';
import {
  DotJournal,
  journalDir,
  readJournal,
  reconcileDead,
  reconcileJournal,
  removeQuietly,
} from './journal.ts';
import { payloadCache } from './payload.ts';
import { type BatchJob, queueBatches, SEND_QUEUE } from './queue.ts';
import { globalPace } from './rate.ts';

// Taking batches from the send queue: `broadsheet worker` until SIGTERM, and
// `broadsheet send` on a PostgreSQL store until its own edition's batches are
// done. Up to worker.concurrency batches at once. A batch that finishes is
// completed; one given back (SIGTERM) or that threw is failed, which pg-boss
// retries at once (retryDelay 0) on any worker; a worker killed outright
// stops answering, and its job expires after worker.leaseSeconds.

export interface WorkStats {
  batches: number;
  sent: number;
  failed: number;
  deferred: number;
  suppressed: number;
  active: number;
}

export interface WorkOptions {
  ctx: Context;
  pool: PgPool;
  boss: PgBoss;
  cfg: WorkerConfig;
  /** This process's name on its claims. */
  worker: string;
  /** Graceful stop: no new batch, no new message; messages in flight finish, batches are given back. */
  signal?: AbortSignal;
  /** Checked when idle: true ends the loop (send: its edition has no batch left anywhere). */
  until?: () => Promise<boolean>;
  pollMs?: number;
  stats?: WorkStats;
  /** Where the dot journals of this host are (default: journalDir(ctx)). */
  journalDir?: string;
}

export const newStats = (): WorkStats => ({
  batches: 0,
  sent: 0,
  failed: 0,
  deferred: 0,
  suppressed: 0,
  active: 0,
});

export async function workBatches(o: WorkOptions): Promise<WorkStats> {
  const { ctx, pool, boss, cfg } = o;
  const { logger } = ctx;
  const stats = o.stats ?? newStats();
  const ledger = new PgLedger(pool, ctx.paths.store, o.worker, () => ctx.clock.now());
  // The server cutting connections (a restart, pg_terminate_backend, a failover)
  // is said in the log, with the code a failing statement gets: an idle client
  // pg's pool drops (at most one line a second), a `sent` mark written again.
  ledger.onRetry = (what, err) => {
    const why = (((err as { cause?: Error }).cause ?? err) as Error).message;
    logger.warn(
      { code: 'STORE_PG_UNREACHABLE', err: why },
      `${what}: the store's connection was lost (${why}); written again on a new connection`,
    );
  };
  let idleLost = 0;
  let idleSaidAt = 0;
  const onIdleLost = (err: Error) => {
    idleLost++;
    if (performance.now() - idleSaidAt < 1000) return;
    idleSaidAt = performance.now();
    logger.warn(
      { code: 'STORE_PG_UNREACHABLE', err: err.message, idleLost },
      `store connection lost while idle (${err.message}): dropped, the next statement connects again`,
    );
  };
  pool.on('error', onIdleLost);
  const paces = new Map<string, () => Promise<void>>();
  let wake: () => void = () => {};
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      const prev = wake;
      wake = () => {
        clearTimeout(t);
        resolve();
        prev();
      };
    });
  o.signal?.addEventListener('abort', () => wake(), { once: true });
  const journal = new DotJournal(o.journalDir ?? journalDir(ctx), o.worker);
  const env: BatchEnv = {
    journal,
    ctx,
    pool,
    ledger,
    cfg,
    payload: payloadCache(pool),
    pace:
      cfg.rateLimit > 0
        ? (t) => {
            let p = paces.get(t);
            if (!p) {
              p = globalPace(pool, `transport:${t}`, cfg.rateLimit);
              paces.set(t, p);
            }
            return p;
          }
        : undefined,
    halting: () => Boolean(o.signal?.aborted),
    sleep,
  };
  const active = new Set<Promise<void>>();
  const pollMs = o.pollMs ?? cfg.pollSeconds * 1000;

  /** Run one batch in the background, counted in stats.active and in `active` until it settles. */
  const track = (work: () => Promise<void>) => {
    stats.active++;
    const q: Promise<void> = work().finally(() => {
      stats.active--;
      active.delete(q);
      wake();
    });
    active.add(q);
  };
  const count = (r: { sent: number; failed: number; deferred: number; suppressed: number }) => {
    stats.sent += r.sent;
    stats.failed += r.failed;
    stats.deferred += r.deferred;
    stats.suppressed += r.suppressed;
  };

  const take = (job: PgBoss.Job<BatchJob>) => {
    const b = job.data;
    track(async () => {
      try {
        const r = await runBatch(env, b);
        count(r);
        if (r.done) {
          stats.batches++;
          await boss.complete(SEND_QUEUE, job.id, { ...r });
          logger.info(
            { edition: b.edition, lo: b.lo, hi: b.hi, ...r },
            `batch ${b.edition} [${b.lo}, ${b.hi}) done: ${r.sent} sent${r.stopped ? `, stopped: ${r.stopped}` : ''}`,
          );
        } else {
          const why = r.stopped ?? 'the worker is stopping';
          await boss.fail(SEND_QUEUE, job.id, { message: `given back: ${why}` });
          logger.info(
            { edition: b.edition, lo: b.lo },
            `batch ${b.edition} [${b.lo}, ${b.hi}) given back (${why})`,
          );
        }
      } catch (err) {
        const e = err as Error;
        logger.error(
          {
            edition: b.edition,
            lo: b.lo,
            // pg-boss's own statements (fetch, complete) throw pg's raw error: a cut connection is named too.
            code: isBroadsheetError(err)
              ? err.code
              : connectionLost(err)
                ? 'STORE_PG_UNREACHABLE'
                : undefined,
            err: e.message,
          },
          `batch ${b.edition} [${b.lo}, ${b.hi}) failed: ${e.message}`,
        );
        await boss.fail(SEND_QUEUE, job.id, { message: e.message }).catch(() => {});
        // A store or queue failure hits the next batch alike: pause before taking another.
        await sleep(pollMs);
      }
    });
  };

  // Batches of dead instances' rows whose "." never left, sent here.
  const direct: BatchJob[] = [];
  const unsent: BatchJob[] = [];
  const runDirect = (b: BatchJob) => {
    track(async () => {
      try {
        const r = await runBatch(env, b);
        count(r);
        if (!r.done) unsent.push(b);
      } catch (err) {
        unsent.push(b);
        logger.error(
          { edition: b.edition, lo: b.lo, err: (err as Error).message },
          `resend failed: ${(err as Error).message}`,
        );
      }
    });
  };
  const reconcile = async () => {
    try {
      const r = await reconcileDead(pool, journal.dir, cfg.batchSize);
      if (r.journals || r.stale)
        logger.warn(
          { ...r, ranges: r.ranges.length },
          `dot journal: ${r.journals} dead worker(s) on this host, ${r.deferred} message(s) whose "." never left sent again, ${r.inDoubt} left in doubt${r.stale ? `, ${r.stale} journal(s) of an earlier boot dropped` : ''}`,
        );
      direct.push(...r.ranges);
    } catch (err) {
      logger.warn(
        { err: (err as Error).message },
        `dot journal: cannot reconcile: ${(err as Error).message}`,
      );
    }
  };
  await reconcile();
  let reconciledAt = performance.now();

  while (!o.signal?.aborted) {
    while (direct.length && active.size < cfg.concurrency) runDirect(direct.shift()!);
    const free = cfg.concurrency - active.size;
    let got = 0;
    if (free > 0) {
      try {
        const jobs = await boss.fetch<BatchJob>(SEND_QUEUE, { batchSize: free });
        for (const j of jobs) take(j);
        got = jobs.length;
      } catch (err) {
        logger.warn({ err: (err as Error).message }, `cannot take batches: ${(err as Error).message}`);
      }
    }
    if (got) continue;
    // A worker of this host killed and not restarted: its journal is read here, once a lease.
    if (performance.now() - reconciledAt > cfg.leaseSeconds * 1000) {
      await reconcile();
      reconciledAt = performance.now();
      if (direct.length) continue;
    }
    if (!active.size && !direct.length && o.until && (await o.until().catch(() => false))) break;
    await sleep(pollMs);
  }
  await Promise.allSettled([...active]);
  await settleOwn(o, journal, [...direct, ...unsent]);
  pool.off('error', onIdleLost);
  return stats;
}

/**
 * A clean stop: this instance's own committed rows without a journal line (a
 * lost COMMIT reply, a message abandoned at its deadline) never had their "."
 * written: back to deferred, queued again with what was left unsent; the journal goes.
 */
async function settleOwn(o: WorkOptions, journal: DotJournal, left: BatchJob[]): Promise<void> {
  const { ctx, pool, boss, cfg } = o;
  journal.close();
  try {
    const out = { journals: 0, deferred: 0, inDoubt: 0, stale: 0, ranges: [...left] };
    const own = readJournal(journal.file) ?? {
      file: journal.file,
      boot: '',
      pid: process.pid,
      host: '',
      instance: o.worker,
      dots: new Set<string>(),
    };
    await reconcileJournal(pool, own, cfg.batchSize, out, 'the end-of-data was never written (dot journal)');
    removeQuietly(journal.file);
    const editions = new Map(out.ranges.map((r) => [r.edition, r.transport]));
    for (const [edition, transport] of editions)
      await queueBatches(boss, pool, edition, cfg.batchSize, transport);
    if (out.deferred)
      ctx.logger.warn(
        { deferred: out.deferred },
        `${out.deferred} message(s) whose "." was never written: queued again`,
      );
  } catch (err) {
    ctx.logger.warn(
      { err: (err as Error).message },
      `dot journal: cannot settle on exit: ${(err as Error).message}`,
    );
  }
}
