import type { Context } from '../context.ts';
import type { Composed } from './compose.ts';

// The transport contract (DESIGN.md § Style): small, optional capabilities.
// Adding one is a file in transports/ plus a line in transports/index.ts.

export interface OutgoingMessage extends Composed {
  edition: string;
  recipient: string;
  /**
   * The transport calls this synchronously at its point of no return — for
   * SMTP right before the end-of-data marker is written, for a file right
   * before the rename — and not at all if it gives up earlier. It records in
   * the ledger that the message may have been delivered, so a crash from here
   * on can never lead to a second copy. If it throws, the transport aborts
   * the message.
   */
  commit(): void;
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
  /** Check that sending can work at all (connect, authenticate) before the first message. */
  verify?(): Promise<void>;
  close?(): Promise<void>;
}

export interface TransportOptions {
  ctx: Context;
  /** out/<edition-id>/ — where file-based transports write. */
  editionDir: string;
}

export type TransportFactory = (opts: TransportOptions) => Transport;

/** Named so control flow can tell them apart (p-retry's AbortError idea). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly responseCode?: number,
    /** True once commit() ran: the server may have the message despite the error. */
    readonly committed = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = permanent ? 'PermanentDeliveryError' : 'TransientDeliveryError';
  }
}

export class PermanentDeliveryError extends DeliveryError {
  constructor(message: string, responseCode?: number, committed = false, options?: { cause?: unknown }) {
    super(message, true, responseCode, committed, options);
  }
}

export class TransientDeliveryError extends DeliveryError {
  constructor(message: string, responseCode?: number, committed = false, options?: { cause?: unknown }) {
    super(message, false, responseCode, committed, options);
  }
}
