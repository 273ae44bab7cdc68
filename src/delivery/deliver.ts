import { join } from 'node:path';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { isPgUrl } from '../store/backend.ts';
import { openStore } from '../store/db.ts';
import { closeQuietly } from './guards.ts';
import { type Progress, type SendInput, type SendSummary, sendEdition } from './send.ts';
import { transports } from './transports/index.ts';

export type TransportName = 'outbox' | 'smtp' | 'json';

/** --transport, else delivery.transport, else smtp when SMTP_URL is set, else outbox. */
export function defaultTransport(ctx: Context): TransportName {
  return ctx.config.delivery.transport ?? (ctx.secrets.smtpUrl ? 'smtp' : 'outbox');
}

/** Open the store, make the transport, send, and close both whatever happens. */
export async function deliver(
  ctx: Context,
  input: SendInput,
  opts: {
    transport?: string;
    dryRun?: boolean;
    limit?: number;
    onProgress?: (p: Progress) => void;
    /** A job's time limit or shutdown: stop before the next message, close the transport. */
    signal?: AbortSignal;
    /** PostgreSQL store: false only queues the batches for `broadsheet worker` processes (--no-wait). */
    wait?: boolean;
  },
): Promise<SendSummary> {
  const name = opts.transport ?? defaultTransport(ctx);
  const factory = transports[name];
  if (!factory) throw new BroadsheetError('SEND_TRANSPORT_UNKNOWN', { name, known: Object.keys(transports) });
  if (isPgUrl(ctx.paths.store)) {
    // Several hosts send one edition: the batches go on the shared queue (src/fanout/).
    const { sendOnPostgres } = await import('../fanout/send-pg.ts');
    return sendOnPostgres(ctx, input, { ...opts, transport: name });
  }
  const db = openStore(ctx.paths.store, { fsyncEachCommit: ctx.config.delivery.fsyncEachCommit });
  try {
    const transport = factory({ ctx, editionDir: join(ctx.paths.out, input.editionId) });
    try {
      // verify() runs inside sendEdition, once it knows there is something to send.
      return await sendEdition(ctx, db, input, {
        transport,
        dryRun: opts.dryRun,
        limit: opts.limit,
        onProgress: opts.onProgress,
        signal: opts.signal,
      });
    } finally {
      await closeQuietly(transport);
    }
  } finally {
    db.close();
  }
}

export function formatSummary(s: SendSummary): string {
  if (s.dryRun)
    return `dry run ${s.edition} (${s.transport}): ${s.rendered} message(s) rendered, ${s.bytes} bytes; nothing sent`;
  const parts = [
    `sent ${s.sent}`,
    `retried ${s.retried}`,
    `failed ${s.failed}`,
    `deferred ${s.deferred}`,
    `suppressed ${s.suppressed}`,
  ];
  if (s.unconfirmed) parts.push(`unconfirmed ${s.unconfirmed} (in doubt, not resent)`);
  if (s.stopped) parts.push(`left ${s.left ?? 0} for the next run (stopped: ${s.stopped.code})`);
  return `${s.edition} via ${s.transport}: ${parts.join(', ')} in ${(s.elapsedMs / 1000).toFixed(1)} s (${s.messagesPerSecond}/s); ledger: ${s.ledger.sent} sent of ${Object.values(s.ledger).reduce((a, b) => a + b, 0)}`;
}

/** Exit 1 when anything this run set out to deliver is left undelivered. */
export const undelivered = (s: SendSummary) =>
  !s.dryRun && (s.failed + s.deferred > 0 || s.stopped !== undefined);
