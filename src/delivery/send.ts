import { readFileSync } from 'node:fs';
import { readerRefValue } from '../analytics/links.ts';
import { appSecret } from '../config/secret.ts';
import type { Context } from '../context.ts';
import type { DigestVariant } from '../email/index.ts';
import { mergeRecipientBytes, type Recipient } from '../email/merge.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { DB } from '../store/db.ts';
import {
  acquireLease,
  finishRun,
  isLease,
  Ledger,
  type LedgerRow,
  type SendState,
  startRun,
} from '../store/index.ts';
import { type Checkpointer, checkpointInWorker } from '../store/ledger-checkpoint.ts';
import { type Composed, Composer, type DkimKey, parseAddress } from './compose.ts';
import { leaseGuard } from './guards.ts';
import { sendAll } from './send-loop.ts';
import { tokenKeys } from './tokens.ts';
import { topicDigests, writeVariantsFile } from './topics.ts';
import type { Transport } from './transport.ts';
import { preferencesToken, preferencesUrl, unsubscribeToken, unsubscribeUrl } from './unsubscribe.ts';
import { returnPathBase, verpAddress, verpToken } from './verp.ts';

// `broadsheet send`: the ledger-driven, exactly-once delivery of one edition.
//
// The order of writes for one message (the whole exactly-once argument):
//   1. ledger row `queued` (or `deferred`): nothing has left, or the server refused it.
//   2. MAIL/RCPT/DATA and the whole body go out. A crash here: the server
//      never got the end-of-data "." and discards the transaction (SMTP is
//      all-or-nothing per transaction); the restart sends it again.
//   3. commit(): inside the socket's write() of the end-of-data ".", the row
//      becomes `committed` (a synchronous SQLite commit: in the WAL when it
//      returns), then the "." goes to the kernel in the same call stack —
//      a few microseconds of synchronous code, nothing awaited. Once in the
//      kernel's socket buffer, the kernel delivers it even if we are killed.
//   4. the server's 250 arrives; its callback queues the row's `sent` mark,
//      written with the next row's commit (same transaction) or at the end of
//      the event-loop turn (Ledger: one SQLite commit per message, not two).
// A crash between 3 and 4 — the classic 250→ledger window, in which senders
// either lose or duplicate a message — leaves the row `committed`: it is
// never sent again, and is reported as `unconfirmed` (RFC 1047: the server
// most likely has it). What remains is the gap inside step 3, between the
// SQLite commit returning and the write() syscall of the "." — microseconds
// of straight-line code; a kill exactly there loses that one message (the
// ledger says committed; the server dropped the unfinished transaction).
// Measured by the crash test: 2,000 messages, 6 random SIGKILLs per run.
// An error *observed* after commit without a reply (the connection dropped
// after the ".") is retried, as Postfix does ("message may be sent more than
// once"): the process is alive and the server most likely did not take it.
// A reply to the "." that never comes (delivery.dataTimeoutMs) is the other
// case: the server holds the whole message and is sitting on it, so the row
// stays `committed` (unconfirmed, never resent) and the run stops.
// The 250→`sent` write happens within the same event-loop turn or with the
// next commit; a kill in that window only leaves the row `committed`.

export interface Digestish {
  subject: string;
  html: string;
  text: string;
  /** Compiled locale variants (src/email): mergeRecipient picks one per reader. */
  variants?: Record<string, DigestVariant>;
}

export interface SendInput {
  /** e.g. daily-2025-12-10 */
  editionId: string;
  /** The configured edition name (the list a reader unsubscribes from), e.g. daily. */
  list: string;
  /** Display name of the list (List-Id phrase), e.g. 每日簡報. */
  listName: string;
  digest: Digestish;
}

export interface SendOptions {
  transport: Transport;
  dryRun?: boolean;
  limit?: number;
  onProgress?: (p: Progress) => void;
  /**
   * Aborted when the job running this send must stop (its time limit, a
   * shutdown): no new message starts, waits end, the transport is closed so
   * messages in flight settle; what is left stays queued for the next run.
   */
  signal?: AbortSignal;
  /** Injected for tests: the wait between retries. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface Progress {
  done: number;
  total: number;
  sent: number;
  failed: number;
  deferred: number;
  retried: number;
}

export interface SendSummary {
  edition: string;
  transport: string;
  dryRun: boolean;
  /** Messages this run set out to deliver (or, with --dry-run, would). */
  total: number;
  sent: number;
  /** Retry attempts made in this run after transient failures. */
  retried: number;
  /** Permanent failures this run (the subscribers are now bounced). */
  failed: number;
  /** Transient failures that used up their retries: left for the next run. */
  deferred: number;
  /** Rows skipped because the subscriber was no longer active. */
  suppressed: number;
  /** Ledger rows left `committed` by a crashed run: in doubt, never sent again. */
  unconfirmed: number;
  /** Messages not tried, or tried and left for the next run, because the run stopped early. */
  left?: number;
  /** Why the run stopped early (the error it then ends with). */
  stopped?: { code: string; message: string; hint: string };
  /** Rendered but not sent (--dry-run). */
  rendered: number;
  bytes: number;
  /** Digests compiled for readers' topic sets (besides the edition's own), when any. */
  topicVariants?: number;
  /** Ledger counts for the edition after this run. */
  ledger: Record<SendState, number>;
  elapsedMs: number;
  messagesPerSecond: number;
}

/** The sending domain: delivery.domain, else the domain of email.from. */
export function sendingDomain(ctx: Context): string {
  return ctx.config.delivery.domain ?? parseAddress(ctx.config.email.from).address.split('@')[1]!;
}

export function loadDkimKey(ctx: Context): DkimKey | undefined {
  const d = ctx.config.delivery.dkim;
  const file = ctx.secrets.dkimPrivateKeyFile;
  if (!d && !file) return undefined;
  if (!d) {
    ctx.logger.warn(
      'DKIM_PRIVATE_KEY_FILE is set but delivery.dkim {domain, selector} is not: messages go out unsigned',
    );
    return undefined;
  }
  if (!file) {
    ctx.logger.warn(
      'delivery.dkim is configured but DKIM_PRIVATE_KEY_FILE is not set: messages go out unsigned',
    );
    return undefined;
  }
  let privateKey: string;
  try {
    privateKey = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BroadsheetError('DKIM_KEY_UNREADABLE', { file }, { cause: err });
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey))
    throw new BroadsheetError('DKIM_KEY_UNREADABLE', { file });
  return { domain: d.domain, selector: d.selector, privateKey };
}

/** Everything per-send that does not depend on the recipient. */
export function makeComposer(ctx: Context, input: Pick<SendInput, 'list' | 'listName'>): Composer {
  const domain = sendingDomain(ctx);
  const d = ctx.config.delivery;
  return new Composer({
    from: ctx.config.email.from,
    replyTo: ctx.config.email.replyTo,
    listId: d.listId ?? `${input.list}.${domain}`,
    listName: input.listName,
    unsubscribeMailto: d.unsubscribeMailto ?? `unsubscribe@${domain}`,
    dkim: loadDkimKey(ctx),
    // The plain bounce address: test sends use it as is; real sends add the reader's VERP token.
    returnPath: returnPathBase(d.returnPath, domain),
  });
}

/** A real send's envelope sender for one reader: the VERP address, or undefined when VERP is off. */
export function readerReturnPath(
  ctx: Context,
  keys: readonly Buffer[],
  editionId: string,
  subscriberId: number,
): string | undefined {
  const base = returnPathBase(ctx.config.delivery.returnPath, sendingDomain(ctx));
  return base && verpAddress(base, verpToken(keys, editionId, subscriberId));
}

export const viewOnlineUrl = (ctx: Context, editionId: string) =>
  new URL(`archive/${editionId}`, ctx.config.publicUrl).href;

/**
 * One reader's message: the digest merged for them (their locale's variant,
 * name, links), composed with the edition's headers. The one way a message is
 * built — real sends, test sends and the tests that score it all go through here.
 */
export function composeForReader(
  ctx: Context,
  composer: Composer,
  digest: Digestish,
  r: Recipient & { messageId: string; subjectPrefix?: string; returnPath?: string },
) {
  // As UTF-8 bytes: the digest's fixed parts are encoded once, not once per reader.
  const merged = mergeRecipientBytes(digest, r, { defaultName: ctx.config.email.defaultName });
  return composer.compose({
    email: r.email,
    name: r.name ?? null,
    subject: (r.subjectPrefix ?? '') + merged.subject,
    html: merged.html,
    text: merged.text,
    messageId: r.messageId,
    unsubscribeUrl: r.unsubscribeUrl,
    date: ctx.clock.now(),
    // A zh-Hans reader's From name and List-Id phrase in Simplified (src/email variants).
    fromName: merged.fromName,
    listName: merged.listName,
    returnPath: r.returnPath,
  });
}

export type RowToSend = Pick<LedgerRow, 'subscriberId' | 'email' | 'name' | 'locale'> & { messageId: string };

/** How one reader's message is built for an edition (the send's fixed parts computed once). */
export function readerBuilder(
  ctx: Context,
  input: Pick<SendInput, 'editionId' | 'list' | 'listName'>,
  digestFor: (subscriberId: number) => Digestish,
): (row: RowToSend) => Composed {
  const d = ctx.config.delivery;
  const composer = makeComposer(ctx, input);
  const keys = tokenKeys(appSecret(ctx));
  const online = viewOnlineUrl(ctx, input.editionId);
  // Per send, not per reader: the VERP base address (parses email.from) and the link prefixes.
  const returnBase = returnPathBase(d.returnPath, sendingDomain(ctx));
  const unsubscribeBase = unsubscribeUrl(ctx.config.publicUrl, '');
  const preferencesBase = preferencesUrl(ctx.config.publicUrl, '');
  return (row: RowToSend) =>
    composeForReader(ctx, composer, digestFor(row.subscriberId), {
      email: row.email,
      name: row.name ?? undefined,
      locale: row.locale ?? undefined,
      // A token is base64url after "v2.": appended to the resolved prefix it is what new URL() gives.
      unsubscribeUrl: unsubscribeBase + unsubscribeToken(keys, input.list, row.subscriberId),
      preferencesUrl: preferencesBase + preferencesToken(keys, input.list, row.subscriberId),
      viewOnlineUrl: online,
      messageId: row.messageId,
      returnPath: returnBase && verpAddress(returnBase, verpToken(keys, input.editionId, row.subscriberId)),
      // The reader's part of click links (analytics.perReader; else empty).
      readerRef: readerRefValue(ctx, keys, input.editionId, row.subscriberId),
    });
}

export async function sendEdition(
  ctx: Context,
  db: DB,
  input: SendInput,
  opts: SendOptions,
): Promise<SendSummary> {
  const started = performance.now();
  const { logger } = ctx;
  const d = ctx.config.delivery;
  // Group commit: the "."s of messages that reach it in one event-loop turn share one SQLite transaction.
  const ledger = new Ledger(db, () => ctx.clock.now(), { groupCommit: true });
  const transport = opts.transport;
  const s = { total: 0, sent: 0, retried: 0, failed: 0, deferred: 0, suppressed: 0, rendered: 0, bytes: 0 };

  // Readers' topics: one compiled digest per distinct topic set (src/delivery/topics.ts).
  const byTopics = await topicDigests(ctx, db, input, { dryRun: opts.dryRun });
  const build = readerBuilder(ctx, input, (id) => byTopics.digestFor(id));

  const summary = (): SendSummary => {
    const elapsedMs = Math.round(performance.now() - started);
    const counts = ledger.counts(input.editionId);
    return {
      edition: input.editionId,
      transport: transport.name,
      dryRun: Boolean(opts.dryRun),
      ...s,
      ...(byTopics.variants ? { topicVariants: byTopics.variants } : {}),
      unconfirmed: counts.committed,
      ledger: counts,
      elapsedMs,
      messagesPerSecond: elapsedMs ? Math.round((s.sent * 1000) / elapsedMs) : 0,
    };
  };

  if (opts.dryRun) {
    const domain = sendingDomain(ctx);
    const rows = ledger.wouldSend(input.editionId, opts.limit);
    s.total = rows.length;
    for (const r of rows) {
      const c = build({ ...r, messageId: `<dry-run.${r.subscriberId}@${domain}>` });
      s.rendered++;
      s.bytes += c.raw.length;
      opts.onProgress?.({ done: s.rendered, total: s.total, sent: 0, failed: 0, deferred: 0, retried: 0 });
    }
    return summary();
  }

  const lease = acquireLease(db, `send:${input.editionId}`, d.leaseSeconds * 1000);
  if (!isLease(lease))
    throw new BroadsheetError('SEND_IN_PROGRESS', {
      edition: input.editionId,
      pid: lease.pid,
      host: lease.host,
    });
  const guard = leaseGuard(db, lease, d.leaseSeconds * 1000);
  const runId = startRun(db, 'send', input.editionId, ctx.clock.now());
  let checkpoints: Checkpointer | undefined;
  try {
    await writeVariantsFile(ctx, input.editionId, byTopics);
    const added = ledger.enqueue(input.editionId, sendingDomain(ctx));
    // Streamed a page at a time (issue 16): a 100,000-reader send never holds the list.
    s.total = ledger.pendingCount(input.editionId, opts.limit);
    const rows = ledger.pendingStream(input.editionId, opts.limit);
    // A long send's WAL checkpoints (and their fsyncs) go to a worker thread (src/store/ledger-checkpoint.ts).
    if (s.total >= CHECKPOINT_IN_WORKER_FROM) checkpoints = checkpointInWorker(db);
    logger.info(
      { edition: input.editionId, transport: transport.name, queued: s.total, added },
      `sending ${input.editionId}: ${s.total} message(s) through ${transport.name}`,
    );
    const statusOf = db.prepare('SELECT status FROM subscribers WHERE id = ?').pluck();
    const loop = await sendAll({
      ctx,
      statusOf: (id) => statusOf.get(id) as string | undefined,
      ledger,
      edition: input.editionId,
      rows,
      build,
      s,
      guard,
      opts,
    });
    const out = summary();
    out.left = loop.left;
    if (loop.stopped) {
      const e = loop.stopped;
      out.stopped = { code: e.code, message: e.message, hint: e.hint };
      finishRun(db, runId, 'failed', { ...out, error: `${e.code}: ${e.message}` }, ctx.clock.now());
      // Not logged here: the caller prints (or logs) the error once, with its hint.
      stoppedSummaries.set(e, out);
      throw e;
    }
    finishRun(db, runId, out.failed || out.deferred ? 'failed' : 'ok', out, ctx.clock.now());
    return out;
  } catch (err) {
    if (!(err instanceof Error && stoppedSummaries.has(err)))
      finishRun(
        db,
        runId,
        'failed',
        { error: err instanceof Error ? err.message : String(err) },
        ctx.clock.now(),
      );
    throw err;
  } finally {
    try {
      ledger.flush();
    } catch (err) {
      // Those rows stay `committed` (unconfirmed): never resent.
      logger.warn({ err }, `could not record the last replies as sent: ${(err as Error).message}`);
    }
    guard.stop();
    await checkpoints?.stop();
    lease.release();
  }
}

/** Sends of at least this many messages checkpoint in a worker (below, SQLite's automatic checkpoint runs a few times at most). */
export const CHECKPOINT_IN_WORKER_FROM = 500;

/** A run that stopped early throws its named error; this is what it had done by then. */
const stoppedSummaries = new WeakMap<Error, SendSummary>();
export const summaryOfStopped = (err: unknown): SendSummary | undefined =>
  err instanceof Error ? stoppedSummaries.get(err) : undefined;
