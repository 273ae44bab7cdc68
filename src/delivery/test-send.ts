import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Context } from '../context.ts';
import { mergeRecipient } from '../email/index.ts';
import { BroadsheetError, isBroadsheetError } from '../errors/index.ts';
import { isSafeAddress } from './compose.ts';
import { messageTimeoutMs } from './config.ts';
import { defaultTransport } from './deliver.ts';
import { closeQuietly, DeadlineExceeded, withDeadline } from './guards.ts';
import { composeForReader, makeComposer, type SendInput, sendingDomain, viewOnlineUrl } from './send.ts';
import { DeliveryError } from './transport.ts';
import { transports } from './transports/index.ts';

// A test send (`broadsheet send --to`, the review app's "send me a test"): the
// edition's digest to ONE address, composed by the same Composer as a real send
// and handed to the same configured transport, but outside the ledger — no
// store is opened, no lease taken, no `sends` row written, no subscriber's
// status read or changed. It is one interactive attempt: no retries (the editor
// presses again), but the same deadline as a real message, so nothing hangs,
// and the same catalog codes for transport faults (SMTP_UNREACHABLE, SMTP_AUTH…).
//
// What keeps a test from touching a real reader:
// - Subject: a marker in the edition's language in front (TEST_MARKERS).
// - List-Unsubscribe and the footer's unsubscribe link point at
//   <publicUrl>/u/test-send, which is not a token: the review app answers it
//   (GET and the one-click POST alike) with 400 "link invalid" and changes
//   nothing — even when the test address is also a subscriber. The mailto
//   fallback carries "unsubscribe test-send", which names nobody.
// - Local transports write under out/<edition>/test-send/ (outbox:
//   test-send/outbox/<address>.eml, json: test-send/messages.jsonl), a folder a
//   real send never writes to, so neither overwrites the other.

/** The subject marker per digest language (the <html lang> of the merged digest). */
export const TEST_MARKERS = { 'zh-Hant': '[測試] ', 'zh-Hans': '[测试] ', en: '[TEST] ' } as const;

/** Where a test's one-click and footer unsubscribe links point: not a token, so it unsubscribes no one. */
export const TEST_UNSUBSCRIBE_PATH = 'u/test-send';
export const TEST_SEND_DIR = 'test-send';

export interface TestSendResult {
  edition: string;
  to: string;
  transport: string;
  subject: string;
  messageId: string;
  bytes: number;
  /** The server's reply, or where a local transport wrote the message. */
  response: string;
}

/** The marker for a merged digest: zh-Hans and English by their lang, Traditional Chinese otherwise. */
export function testMarker(html: string, locale?: string): string {
  const lang = locale ?? /<html[^>]*\slang="([^"]+)"/i.exec(html)?.[1] ?? '';
  if (/^zh-(Hans|CN|SG)/i.test(lang)) return TEST_MARKERS['zh-Hans'];
  if (/^en\b/i.test(lang)) return TEST_MARKERS.en;
  return TEST_MARKERS['zh-Hant'];
}

/** A bare address, trimmed, or TEST_SEND_ADDRESS (exit 2). */
export function testAddress(raw: unknown): string {
  const a = typeof raw === 'string' ? raw.trim() : '';
  if (!isSafeAddress(a)) throw new BroadsheetError('TEST_SEND_ADDRESS', { address: String(raw ?? '') });
  return a;
}

export interface TestSendOptions {
  to: string;
  /** outbox | smtp | json; default as for `send` (delivery.transport, else smtp with SMTP_URL, else outbox). */
  transport?: string;
  /** A reader locale for the merge (zh-Hans gets the Simplified conversion); default the edition's. */
  locale?: string;
  /** The name in the greeting; default email.defaultName. */
  name?: string;
}

export async function sendTest(
  ctx: Context,
  input: SendInput,
  opts: TestSendOptions,
): Promise<TestSendResult> {
  const to = testAddress(opts.to);
  const name = opts.transport ?? defaultTransport(ctx);
  const factory = transports[name];
  if (!factory) throw new BroadsheetError('SEND_TRANSPORT_UNKNOWN', { name, known: Object.keys(transports) });
  // Composed before the transport exists: a bad sender or DKIM key fails without a connection.
  const composer = makeComposer(ctx, input);
  const unsubscribeUrl = new URL(TEST_UNSUBSCRIBE_PATH, ctx.config.publicUrl).href;
  const viewOnline = viewOnlineUrl(ctx, input.editionId);
  const variant = mergeRecipient(
    input.digest,
    { email: to, name: opts.name, locale: opts.locale, unsubscribeUrl, viewOnlineUrl: viewOnline },
    { defaultName: ctx.config.email.defaultName },
  );
  const messageId = `<test.${input.editionId}.${randomBytes(8).toString('hex')}@${sendingDomain(ctx)}>`;
  // The marker in the reader's variant's language ([測試] / [测试] / [TEST]).
  const subjectPrefix = testMarker(variant.html, opts.locale);
  const subject = subjectPrefix + variant.subject;
  const composed = composeForReader(ctx, composer, input.digest, {
    email: to,
    name: opts.name,
    locale: opts.locale,
    unsubscribeUrl,
    viewOnlineUrl: viewOnline,
    messageId,
    subjectPrefix,
  });

  const transport = factory({ ctx, editionDir: join(ctx.paths.out, input.editionId, TEST_SEND_DIR) });
  const ms = messageTimeoutMs(ctx.config.delivery);
  const timeout = () => new BroadsheetError('SEND_TIMEOUT', { transport: transport.name, ms });
  try {
    if (transport.verify) await withDeadline(transport.verify(), ms, () => {});
    const res = await withDeadline(
      // commit() is where a real send writes the ledger; a test has no ledger.
      transport.send({ ...composed, edition: input.editionId, recipient: to, commit: () => {} }),
      ms,
      () => {},
    );
    const rejected = res.rejected.find((r) => r.recipient.toLowerCase() === to.toLowerCase());
    if (rejected || !res.accepted.some((a) => a.toLowerCase() === to.toLowerCase()))
      throw new BroadsheetError('TEST_SEND_REFUSED', {
        address: to,
        response: rejected ? `${rejected.code ?? ''} ${rejected.message}`.trim() : 'recipient not accepted',
      });
    ctx.logger.info(
      { edition: input.editionId, to, transport: transport.name, messageId },
      `test send of ${input.editionId} to ${to} through ${transport.name}`,
    );
    return {
      edition: input.editionId,
      to,
      transport: transport.name,
      subject,
      messageId,
      bytes: composed.raw.length,
      response: res.response,
    };
  } catch (err) {
    throw testSendError(err, to, timeout);
  } finally {
    await closeQuietly(transport);
  }
}

/**
 * The catalog error a failed test ends with: the transport's own name for the
 * fault (as a real send would stop with), a refused recipient as
 * TEST_SEND_REFUSED, a deadline as SEND_TIMEOUT.
 */
function testSendError(err: unknown, to: string, timeout: () => BroadsheetError): unknown {
  if (isBroadsheetError(err)) return err;
  if (err instanceof DeadlineExceeded) return timeout();
  if (err instanceof DeliveryError) {
    if (err.named) return err.named;
    if (err.scope === 'recipient')
      return new BroadsheetError('TEST_SEND_REFUSED', { address: to, response: err.message }, { cause: err });
    return new BroadsheetError('TEST_SEND_FAILED', { address: to, detail: err.message }, { cause: err });
  }
  return err;
}

export const formatTestSend = (r: TestSendResult) =>
  `test send of ${r.edition} to ${r.to} via ${r.transport}: ${r.response}\nsubject: ${r.subject}\n(not recorded in the ledger; its unsubscribe link unsubscribes no one)`;
