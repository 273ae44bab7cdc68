import type { Context } from '../context.ts';
import type { BroadsheetError } from '../errors/index.ts';
import type { Composed } from './compose.ts';

// The transport contract (DESIGN.md § Style): small, optional capabilities.
// Adding one is a file in transports/ plus a line in transports/index.ts.

export interface OutgoingMessage extends Composed {
  edition: string;
  recipient: string;
  /**
   * The transport calls this at its point of no return — for SMTP right
   * before the end-of-data marker is written, for a file right before the
   * rename — and not at all if it gives up earlier. It records in the ledger
   * that the message may have been delivered, so a crash from here on can
   * never lead to a second copy. If it throws (or its promise rejects), the
   * transport aborts the message: no end-of-data, no rename.
   *
   * The SQLite ledger of a send commits the marks of one event-loop turn
   * together (group commit) and returns a promise. Give it `writeMarker`:
   * it is called synchronously right after that transaction's COMMIT (before
   * the promise settles), so nothing runs between the COMMIT and the marker —
   * the window a kill can fall in stays one write() per message. It may not
   * be called at all (a ledger that wrote at once, or PostgreSQL): then the
   * transport writes the marker itself once commit() returned or settled.
   * The PostgreSQL ledger returns a promise (a COMMIT round trip): the
   * transport awaits it with the whole body already sent and then writes the
   * marker, nothing else in between (issue 17; docs/scale-out-send.md).
   */
  commit(writeMarker?: () => void): void | Promise<void>;
}

export interface RejectedRecipient {
  recipient: string;
  code?: number;
  permanent: boolean;
  message: string;
}

export interface DeliveryResult {
  /** Recipients the server (or the file system) took. */
  accepted: string[];
  /** Recipients refused while others were taken (nodemailer's info.rejectedErrors). */
  rejected: RejectedRecipient[];
  response: string;
  messageId: string;
}

export interface Transport {
  readonly name: string;
  send(msg: OutgoingMessage): Promise<DeliveryResult>;
  /**
   * Check that sending can work at all (connect, authenticate) before the first message.
   * `warm`: a send of many messages follows — open the transport's other connections meanwhile.
   */
  verify?(opts?: { warm?: boolean }): Promise<void>;
  close?(): Promise<void>;
  /** How many send() calls may usefully be in flight at once (default 1). */
  readonly concurrency?: number;
}

export interface TransportOptions {
  ctx: Context;
  /** out/<edition-id>/ — where file-based transports write. */
  editionDir: string;
}

export type TransportFactory = (opts: TransportOptions) => Transport;

/**
 * Whose problem a failure is, which decides what send.ts does with it:
 * - `recipient`: this reader's address (RCPT 5xx, a 5.1.x/5.2.x reply): permanent bounces the reader, transient retries;
 * - `message`: this one message (a 451 at DATA, a file error): retried, or failed without a bounce;
 * - `connection`: the server is down, stuck or closing (refused, timeout, drop, 421): every
 *   message waits out the backoff; when the retries are used up with no success since, the run stops (exit 1);
 * - `sender`: us — login, TLS, sender address, size, content, a host that does not resolve:
 *   every message would fail the same way, so the run stops at once (exit 2) and no reader changes.
 */
export type FailureScope = 'recipient' | 'message' | 'connection' | 'sender';

export interface DeliveryErrorOptions {
  cause?: unknown;
  scope?: FailureScope;
  /** The catalog error that names the fault for the operator (code, message, hint). */
  named?: BroadsheetError;
  /**
   * The end-of-data was written and no reply came in time: the server most
   * likely has the message (RFC 1047). The ledger row stays `committed` and
   * the message is never sent again.
   */
  inDoubt?: boolean;
}

/** Named so control flow can tell them apart (p-retry's AbortError idea). */
export class DeliveryError extends Error {
  readonly scope: FailureScope;
  readonly named?: BroadsheetError;
  readonly inDoubt: boolean;

  constructor(
    message: string,
    readonly permanent: boolean,
    readonly responseCode?: number,
    /** True once commit() ran: the server may have the message despite the error. */
    readonly committed = false,
    options?: DeliveryErrorOptions,
  ) {
    super(message, options);
    this.name = permanent ? 'PermanentDeliveryError' : 'TransientDeliveryError';
    // Before scopes, a reply code meant "the server refused this reader".
    this.scope = options?.scope ?? (responseCode !== undefined ? 'recipient' : 'message');
    this.named = options?.named;
    this.inDoubt = options?.inDoubt ?? false;
  }
}

export class PermanentDeliveryError extends DeliveryError {
  constructor(message: string, responseCode?: number, committed = false, options?: DeliveryErrorOptions) {
    super(message, true, responseCode, committed, options);
  }
}

export class TransientDeliveryError extends DeliveryError {
  constructor(message: string, responseCode?: number, committed = false, options?: DeliveryErrorOptions) {
    super(message, false, responseCode, committed, options);
  }
}
