import { BroadsheetError } from '../../errors/index.ts';
import { DeliveryError, type FailureScope } from '../transport.ts';

// What a failed SMTP step means, decided by the stage it failed at (nodemailer's
// err.command: CONN, EHLO, STARTTLS, AUTH …, MAIL FROM, RCPT TO, DATA) and the
// enhanced status code (RFC 3463), never by the reply code alone: a 550 to
// MAIL FROM is about us, a 550 to RCPT TO is about the reader.

export type SmtpError = Error & {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  permanent?: boolean;
  response?: string;
  command?: string;
  timeoutType?: string;
  /** Set on our own phase deadlines (see smtp.ts). */
  phase?: string;
  setting?: string;
  ms?: number;
};

/** A connection that closed under a step, in nodemailer's shape (classified as dropped). */
export const connectionClosed = (): SmtpError =>
  Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION', command: 'CONN' });

export interface Where {
  host: string;
  port: number;
  user?: string;
  /** The session was not ready yet (connect, greeting, EHLO, STARTTLS, AUTH). */
  setup: boolean;
  /** The end-of-data "." was written (the ledger row is committed). */
  committed: boolean;
  /** nodemailer's timeouts by type → what to tell the operator. */
  timeouts: { connectionTimeoutMs: number; greetingTimeoutMs: number; socketTimeoutMs: number };
}

/** "550 5.1.1 No such user" → { cls: 5, subject: 1 } (RFC 3463 class.subject.detail). */
export function enhancedStatus(response: string | undefined): { cls: number; subject: number } | undefined {
  const m = /^\d{3}[ -]([245])\.(\d{1,3})\.\d{1,3}\b/.exec(response ?? '');
  return m ? { cls: Number(m[1]), subject: Number(m[2]) } : undefined;
}

/** RFC 6761 § 6.4: `.invalid` names never resolve; resolvers SHOULD say so at once, without a query. */
export const isInvalidName = (host: string) => /(^|\.)invalid\.?$/i.test(host);

const SOCKET_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
};

const firstLine = (s: string) => s.split(/\r?\n/)[0]!.slice(0, 300);

export function classify(err: SmtpError, w: Where): DeliveryError {
  const response = firstLine(err.response ?? err.message);
  const rc = err.responseCode;
  const cmd = err.command ?? '';
  const at = { host: w.host, port: w.port };
  const make = (
    scope: FailureScope,
    named: BroadsheetError,
    permanent = scope === 'sender',
    inDoubt = false,
  ) =>
    new DeliveryError(`${named.code}: ${named.message}`, permanent, rc, w.committed, {
      cause: err,
      scope,
      named,
      inDoubt,
    });
  const sender = (stage: string) =>
    make('sender', new BroadsheetError('SMTP_SENDER_REJECTED', { ...at, stage, response }, { cause: err }));

  // Time limits: ours (a phase deadline) or nodemailer's (connect, greeting, idle socket).
  if (err.code === 'ETIMEDOUT') {
    const [phase, setting, ms] = err.phase
      ? [err.phase, err.setting!, err.ms!]
      : err.timeoutType === 'CONNECT_TIMEOUT'
        ? ['connection', 'connectionTimeoutMs', w.timeouts.connectionTimeoutMs]
        : err.timeoutType === 'GREETING_TIMEOUT'
          ? ['greeting', 'greetingTimeoutMs', w.timeouts.greetingTimeoutMs]
          : ['reply (the connection went silent)', 'socketTimeoutMs', w.timeouts.socketTimeoutMs];
    const named = new BroadsheetError('SMTP_TIMEOUT', { ...at, phase, setting, ms }, { cause: err });
    return make('connection', named, false, w.committed && setting === 'dataTimeoutMs');
  }
  if (err.code === 'EDNS') {
    const detail = err.originalCode ?? err.message;
    // A name that does not exist stays so; a resolver that did not answer may answer next time.
    if (['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA'].includes(detail))
      return make('sender', new BroadsheetError('SMTP_DNS', { host: w.host, detail }, { cause: err }));
    return make(
      'connection',
      new BroadsheetError('SMTP_UNREACHABLE', { ...at, detail: `DNS: ${detail}` }, { cause: err }),
    );
  }
  // A certificate the client refuses surfaces as a socket error carrying the TLS code.
  const tlsSocketError = /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/.test(
    err.originalCode ?? '',
  );
  if (err.code === 'ETLS' || cmd === 'STARTTLS' || tlsSocketError)
    return make('sender', new BroadsheetError('SMTP_TLS', { ...at, detail: err.message }, { cause: err }));
  if (err.code === 'EAUTH' || cmd.startsWith('AUTH')) {
    const named = new BroadsheetError(
      'SMTP_AUTH',
      { ...at, user: w.user ?? '', response: rc ? response : err.message },
      { cause: err },
    );
    // 454 4.7.0: a temporary authentication failure is the server's, and may pass.
    return rc !== undefined && rc >= 400 && rc < 500 ? make('connection', named) : make('sender', named);
  }
  if (rc === 421)
    return make('connection', new BroadsheetError('SMTP_UNAVAILABLE', { ...at, response }, { cause: err }));

  const enh = enhancedStatus(err.response);
  if (cmd === 'MAIL FROM') {
    // 5xx to MAIL FROM (sender refused, quota, 5.3.4 too big) or nodemailer's own SIZE check.
    if ((rc ?? 500) >= 500) return sender('MAIL FROM');
    return new DeliveryError(response, false, rc, w.committed, { cause: err, scope: 'message' });
  }
  if (cmd === 'RCPT TO') {
    // 5xx to RCPT is the reader's, unless the enhanced code says it is about us: 5.3 system,
    // 5.5 protocol, 5.6 content, 5.7 policy ("relaying denied" must not bounce the whole list).
    if (rc !== undefined && rc >= 500) {
      if (enh && [3, 5, 6, 7].includes(enh.subject)) return sender('RCPT TO');
      return new DeliveryError(response, true, rc, w.committed, { cause: err, scope: 'recipient' });
    }
    return new DeliveryError(response, false, rc, w.committed, { cause: err, scope: 'recipient' });
  }
  if (cmd === 'DATA' && rc !== undefined) {
    const stage = w.committed ? 'end of data' : 'DATA';
    if (rc >= 500) {
      // Only a per-recipient enhanced code (5.1.x address, 5.2.x mailbox) bounces the reader;
      // 554 content, 5.7.x policy, 552/5.3.4 size are the sender's.
      if (enh && (enh.subject === 1 || enh.subject === 2))
        return new DeliveryError(response, true, rc, w.committed, { cause: err, scope: 'recipient' });
      return sender(stage);
    }
    return new DeliveryError(response, false, rc, w.committed, { cause: err, scope: 'message' });
  }
  if (w.setup) {
    if (rc !== undefined && rc >= 500) return sender(cmd === 'CONN' || !cmd ? 'greeting' : cmd);
    if (rc !== undefined)
      return make('connection', new BroadsheetError('SMTP_UNAVAILABLE', { ...at, response }, { cause: err }));
    if (err.code === 'EPROTOCOL')
      return make('sender', new BroadsheetError('SMTP_PROTOCOL', { ...at, response }, { cause: err }));
    const word = SOCKET_WORDS[err.originalCode ?? ''];
    const detail = word ? `${word} (${err.message})` : err.message;
    return make('connection', new BroadsheetError('SMTP_UNREACHABLE', { ...at, detail }, { cause: err }));
  }
  if (rc !== undefined && rc >= 500) return sender(cmd || 'reply');
  // Dropped, even after our "." was written: retried (see send.ts). The "." in our kernel
  // buffer is no proof the server read it — a server that cuts the connection mid-body
  // looks the same from here, and smtp-faults/delivery-smtp require that message to go.
  return make('connection', namedDrop(at, response, err), false);
}

function namedDrop(at: { host: string; port: number }, response: string, err: SmtpError) {
  return new BroadsheetError('SMTP_DROPPED', { ...at, detail: response || err.message }, { cause: err });
}
