import type { Context } from '../context.ts';
import { BroadsheetError, isBroadsheetError } from '../errors/index.ts';
import type { Awaitable } from '../store/backend.ts';
import type { LedgerRow, LedgerStore } from '../store/ledger.ts';
import type { Composed } from './compose.ts';
import { messageTimeoutMs } from './config.ts';
import { closeQuietly, DeadlineExceeded, type LeaseGuard, withDeadline } from './guards.ts';
import type { RowToSend, SendOptions, SendSummary } from './send.ts';
import { DeliveryError } from './transport.ts';

// The sending loop of `broadsheet send` (the order of ledger writes is in send.ts).
// What a failure does depends on whose problem it is (FailureScope in transport.ts):
// - a reader's: bounce (permanent) or retry that message with backoff;
// - the server's (down, stuck, closing): every message waits out the backoff; once a
//   message has used up its retries with nothing delivered since, the run stops (exit 1);
// - ours (login, TLS, sender refused, size, content): the run stops at once (exit 2);
// - a lost lease, or a transport that does not finish a message in time: the run stops.
// A run that stops leaves every message it did not finish queued or deferred for
// the next run, and changes no reader's status.

interface Item {
  row: RowToSend;
  attempt: number;
  readyAt: number;
  /**
   * How many answers the server had given (`answers`) when this message first
   * failed to reach it (for the stop-the-run rule).
   */
  answersAtFirstFailure?: number;
}

/** The summary's counters the loop keeps up to date (see SendSummary for what each means). */
export type Counters = Pick<
  SendSummary,
  'total' | 'sent' | 'retried' | 'failed' | 'deferred' | 'suppressed' | 'bytes'
>;

export interface LoopInput {
  ctx: Context;
  /** The subscriber's status when their turn comes (a reader who left since the rows were read is suppressed). */
  statusOf: (subscriberId: number) => Awaitable<string | undefined>;
  ledger: LedgerStore;
  edition: string;
  /** An array, or a stream of rows (Ledger.pendingStream) read only as fast as messages go out. */
  rows: Iterable<LedgerRow>;
  /** Waited before each message starts: a rate shared with other processes (src/fanout/rate.ts). */
  pace?: () => Promise<void>;
  /**
   * True once the process is told to stop gracefully (a worker's SIGTERM): no new
   * message starts, the ones in flight finish; what is left stays as it is.
   */
  halt?: () => boolean;
  /**
   * PostgreSQL: called synchronously once a row's COMMIT is durable and ours, as the
   * last thing before the transport writes its "." (src/fanout/journal.ts). A throw cuts the connection.
   */
  onDot?: (edition: string, subscriberId: number) => void;
  build: (row: RowToSend) => Composed;
  s: Counters;
  guard: LeaseGuard;
  opts: SendOptions;
}

/** Exponential backoff with full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^n)]. */
export const backoff = (attempt: number, base: number, cap: number, random: () => number) =>
  Math.round(random() * Math.min(cap, base * 2 ** attempt));

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Send every row; returns how many were left and, when it stopped early, why. */
export async function sendAll(x: LoopInput): Promise<{ left: number; stopped?: BroadsheetError }> {
  const { ctx, ledger, edition, s, guard, opts } = x;
  const { logger } = ctx;
  const d = ctx.config.delivery;
  const transport = opts.transport;
  const sleep = opts.sleep ?? sleepReal;
  const random = opts.random ?? Math.random;
  const deadlineMs = messageTimeoutMs(d);
  const concurrency = transport.concurrency ?? 1;
  // Work in hand: retries waiting out their backoff, plus a few fresh rows pulled from
  // the source as the queue runs low — never the whole list (memory stays flat with its size).
  const queue: Item[] = [];
  const source = x.rows[Symbol.iterator]();
  let drained = false;
  const fill = () => {
    let fresh = 0;
    for (const q of queue) if (q.attempt === 0) fresh++;
    while (!drained && fresh < concurrency * 4) {
      const n = source.next();
      if (n.done) drained = true;
      else {
        queue.push({ row: n.value, attempt: 0, readyAt: 0 });
        fresh++;
      }
    }
  };
  fill();
  const interval = d.messagesPerSecond > 0 ? 1000 / d.messagesPerSecond : 0;
  let nextSlot = 0;
  let done = 0;
  let stopped: BroadsheetError | undefined;
  /** No message starts before this: the server failed and the backoff applies to all. */
  let gateUntil = 0;
  // Answers the server has given (a 250, a refusal, a reply to the message
  // itself), counted in the order this thread sees them: a message that has
  // used up its retries stops the run when none came since it first failed.
  // A count, not a clock: a delivery read just before another message's
  // first failure often lands in the same millisecond, and compared by
  // Date.now() it looked like one after it, so a server dropping every
  // connection from then on left that message deferred instead of stopping
  // the run (1 run in 6 under load, tests/integration/smtp-faults.test.ts).
  let answers = 0;
  const stop = (err: BroadsheetError) => {
    stopped ??= err;
  };
  // The job running this send must stop: start nothing new, wake every wait,
  // and close the transport so the messages in flight settle (what the server
  // did not take stays queued; a message past its "." stays in doubt, as ever).
  const signal = opts.signal;
  const abortedError = () => {
    const r = signal?.reason;
    return isBroadsheetError(r)
      ? r
      : new BroadsheetError('INTERNAL', { detail: `send of ${edition} aborted: ${String(r)}` }, { cause: r });
  };
  // Waits end early on an abort. Each wait registers its own waker and removes it when it
  // ends: racing one never-settling promise instead kept a reaction per wait (per message)
  // alive until the send ended.
  let aborted = false;
  const abortWakers = new Set<() => void>();
  const orAbort = <T>(p: Promise<T>): Promise<T | undefined> => {
    if (aborted) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      const w = () => resolve(undefined);
      abortWakers.add(w);
      p.then(
        (v) => {
          abortWakers.delete(w);
          resolve(v);
        },
        (e: unknown) => {
          abortWakers.delete(w);
          reject(e);
        },
      );
    });
  };
  let unlisten = () => {};
  if (signal) {
    const onAbort = () => {
      aborted = true;
      stop(abortedError());
      logger.warn({ edition, code: stopped?.code }, `send of ${edition} told to stop: ${stopped?.message}`);
      void closeQuietly(transport);
      for (const w of abortWakers) w();
      abortWakers.clear();
    };
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      unlisten = () => signal.removeEventListener('abort', onAbort);
    }
  }
  const sleepOrAbort = (ms: number) => orAbort(sleep(ms));
  const named = (e: DeliveryError) =>
    e.named ?? new BroadsheetError('INTERNAL', { detail: `${transport.name}: ${e.message}` }, { cause: e });
  const progress = () =>
    opts.onProgress?.({
      done,
      total: s.total,
      sent: s.sent,
      failed: s.failed,
      deferred: s.deferred,
      retried: s.retried,
    });

  // Can sending work at all? One connection (and login) before any message, retried
  // like a message: a wrong password or an untrusted certificate stops here, with no row touched.
  if (queue.length && transport.verify && !stopped) {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await withDeadline(orAbort(transport.verify({ warm: true })), deadlineMs, () => {});
        if (stopped) break;
        break;
      } catch (err) {
        if (err instanceof DeadlineExceeded) {
          stop(new BroadsheetError('SEND_TIMEOUT', { transport: transport.name, ms: deadlineMs }));
          await closeQuietly(transport);
          break;
        }
        if (!(err instanceof DeliveryError)) throw err;
        if (err.scope !== 'connection' || attempt >= d.retries) {
          stop(named(err));
          break;
        }
        const wait = backoff(attempt, d.backoffMs, d.maxBackoffMs, random);
        logger.warn(
          { code: err.named?.code, attempt: attempt + 1, wait },
          `cannot start sending (attempt ${attempt + 1} of ${d.retries + 1}): ${err.message}; retrying in ${wait} ms`,
        );
        await sleepOrAbort(wait);
      }
    }
  }

  const one = async (item: Item) => {
    const { row } = item;
    const st = x.statusOf(row.subscriberId);
    const status = st instanceof Promise ? await st : st;
    if (status !== 'active') {
      await ledger.markSuppressed(edition, row.subscriberId, `subscriber ${status ?? 'deleted'}`);
      s.suppressed++;
      done++;
      return progress();
    }
    let committed = false;
    let abandoned = false;
    /** Another worker committed this row first (PostgreSQL compare-and-set): not ours to send. */
    let lostRace = false;
    try {
      const composed = x.build(row);
      const res = await withDeadline(
        transport.send({
          ...composed,
          edition,
          recipient: row.email,
          commit: (writeMarker) => {
            // A transport that wakes up after its deadline must not send what we gave up on.
            if (abandoned) throw new Error('message abandoned at its deadline');
            // Group commit calls this right after its COMMIT (PostgreSQL never does: its
            // dot journal line comes first, in the .then below).
            const after =
              writeMarker &&
              (() => {
                if (abandoned) return;
                committed = true;
                writeMarker();
              });
            const cas = ledger.markCommitted(edition, row.subscriberId, transport.name, after);
            if (typeof cas === 'boolean') {
              // A SQLite ledger without group commit: written synchronously, inside the write of the marker.
              committed = true;
              return;
            }
            // SQLite with group commit (this turn's marks in one transaction) or PostgreSQL
            // (a durable COMMIT): awaited by the transport with the body sent and before
            // the marker; a failed write rejects, and the marker is never written.
            return cas.then((ours) => {
              if (abandoned) throw new Error('message abandoned at its deadline');
              if (!ours) {
                lostRace = true;
                throw new Error('another worker has committed this message');
              }
              committed = true;
              x.onDot?.(edition, row.subscriberId);
            });
          },
        }),
        deadlineMs,
        () => {
          abandoned = true;
        },
      );
      // The 250 is in: count it before anything else can run.
      answers++;
      const rejected = res.rejected.find((r) => r.recipient.toLowerCase() === row.email);
      if (rejected || !res.accepted.map((a) => a.toLowerCase()).includes(row.email)) {
        const why = rejected ? `${rejected.code ?? ''} ${rejected.message}`.trim() : 'recipient not accepted';
        if (!rejected || rejected.permanent) {
          await ledger.markFailed(edition, row.subscriberId, 'failed', why, {
            countAttempt: false,
            bounce: true,
          });
          s.failed++;
          done++;
          logger.warn(
            { recipient: row.email, error: why },
            'rejected permanently: subscriber marked bounced',
          );
          return progress();
        }
        throw new DeliveryError(why, false, rejected.code, true, { scope: 'recipient' });
      }
      try {
        await ledger.markSent(edition, row.subscriberId, res.response);
      } catch (err) {
        // PostgreSQL: the mark did not reach the store. The row stays `committed`
        // (unconfirmed, never resent) — never back to deferred: the server has it.
        logger.warn(
          { recipient: row.email, err },
          `delivered, but not recorded as sent: ${(err as Error).message}`,
        );
      }
      s.sent++;
      s.bytes += composed.raw.length;
      done++;
      return progress();
    } catch (err) {
      if (lostRace) {
        // The transaction was cut before its end-of-data: nothing of ours was delivered.
        s.total--;
        return progress();
      }
      if (err instanceof DeadlineExceeded) {
        // Closed so that whatever it still holds (sockets, timers) goes; committed rows stay in doubt.
        if (committed) await ledger.markInDoubt(edition, row.subscriberId, err.message);
        else
          await ledger.markFailed(edition, row.subscriberId, 'deferred', err.message, { countAttempt: true });
        if (committed) done++;
        stop(new BroadsheetError('SEND_TIMEOUT', { transport: transport.name, ms: deadlineMs }));
        await closeQuietly(transport);
        return progress();
      }
      if (isBroadsheetError(err)) {
        // A named error (a template, a store write…) would hit every message alike.
        await ledger.markFailed(edition, row.subscriberId, 'deferred', err.message, {
          countAttempt: !committed,
        });
        stop(err);
        return progress();
      }
      const e =
        err instanceof DeliveryError
          ? err
          : new DeliveryError(
              err instanceof Error ? err.message : String(err),
              !(err instanceof Error && 'code' in err),
              undefined,
              committed,
              { cause: err, scope: 'message' },
            );
      const log = { recipient: row.email, code: e.named?.code, reply: e.responseCode, error: e.message };
      if (e.scope === 'sender') {
        // Not this reader's fault: the message waits for the next run, the reader stays active.
        await ledger.markFailed(edition, row.subscriberId, 'deferred', e.message, {
          countAttempt: !committed,
        });
        logger.error(log, 'refused for a reason that applies to every message: stopping the run');
        stop(named(e));
        return progress();
      }
      if (e.inDoubt && committed) {
        await ledger.markInDoubt(edition, row.subscriberId, e.message);
        done++;
        logger.error(log, 'no reply to the end of data: left unconfirmed (not resent), stopping the run');
        stop(named(e));
        return progress();
      }
      if (e.permanent) {
        answers++; // the server is working; it refused this one
        await ledger.markFailed(edition, row.subscriberId, 'failed', e.message, {
          countAttempt: !committed,
          bounce: e.scope === 'recipient',
        });
        s.failed++;
        done++;
        logger.warn(
          log,
          e.scope === 'recipient' ? 'rejected permanently: subscriber marked bounced' : 'permanent failure',
        );
        return progress();
      }
      await ledger.markFailed(edition, row.subscriberId, 'deferred', e.message, {
        countAttempt: !committed,
      });
      if (stopped) return progress(); // the run is ending: left for the next one
      if (e.scope === 'connection') {
        item.answersAtFirstFailure ??= answers;
        if (item.attempt >= d.retries && answers === item.answersAtFirstFailure) {
          logger.error(log, 'the server keeps failing: stopping the run');
          stop(named(e));
          return progress();
        }
      } else {
        answers++;
      }
      if (item.attempt < d.retries) {
        const wait = backoff(item.attempt, d.backoffMs, d.maxBackoffMs, random);
        item.attempt++;
        item.readyAt = Date.now() + wait;
        s.retried++;
        if (e.scope === 'connection') {
          // The server, not this message, failed: retry this one first, and start nothing before it.
          queue.unshift(item);
          gateUntil = Math.max(gateUntil, item.readyAt);
        } else queue.push(item);
        logger.debug({ ...log, wait }, 'transient failure: retrying');
        return;
      }
      s.deferred++;
      done++;
      logger.warn(log, 'transient failure: left for the next run');
      return progress();
    }
  };

  const inflight = new Set<Promise<void>>();
  // A message that ends wakes the loop (one promise per wait, not a race over every message in flight).
  let wake = () => {};
  /** A message whose own failure handling failed (a store write): sendAll ends with it. */
  let failure: { err: unknown } | undefined;
  const woken = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });
  while ((queue.length && !stopped && !x.halt?.()) || inflight.size) {
    if (failure) break;
    if (x.halt?.()) {
      await woken();
      continue;
    }
    if (!stopped) fill();
    const now = Date.now();
    let idx = -1;
    let soonest = Number.POSITIVE_INFINITY;
    if (!stopped && now < gateUntil) soonest = gateUntil;
    else if (!stopped)
      for (let i = 0; i < queue.length; i++) {
        const r = queue[i]!.readyAt;
        if (r <= now) {
          idx = i;
          break;
        }
        soonest = Math.min(soonest, r);
      }
    if (idx >= 0 && inflight.size < concurrency) {
      if (!guard.held()) {
        stop(new BroadsheetError('SEND_LEASE_LOST', { edition, detail: guard.lost ?? 'lease lost' }));
        continue;
      }
      if (interval) {
        const wait = nextSlot - now;
        nextSlot = Math.max(now, nextSlot) + interval;
        if (wait > 0) await sleepOrAbort(wait);
        if (stopped) continue;
      }
      if (x.pace) {
        await orAbort(x.pace());
        if (stopped) continue;
      }
      const item = idx === 0 ? queue.shift()! : queue.splice(idx, 1)[0]!;
      const p: Promise<void> = one(item).then(
        () => {
          inflight.delete(p);
          wake();
        },
        (err: unknown) => {
          inflight.delete(p);
          failure ??= { err };
          wake();
        },
      );
      inflight.add(p);
      continue;
    }
    const timed = idx < 0 && Number.isFinite(soonest);
    if (!inflight.size && !timed) break;
    const wait = woken();
    if (timed) void sleep(Math.max(0, soonest - now)).then(wake);
    await (stopped ? wait : orAbort(wait));
  }
  unlisten();
  if (failure) throw failure.err;
  return { left: s.total - done, stopped };
}
