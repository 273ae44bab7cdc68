import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { BroadsheetError } from '../../errors/index.ts';
import {
  type DeliveryResult,
  type OutgoingMessage,
  PermanentDeliveryError,
  TransientDeliveryError,
  type Transport,
  type TransportFactory,
} from '../transport.ts';

// SMTP through nodemailer's SMTPConnection (greeting, EHLO, STARTTLS, AUTH,
// timeouts, reply codes and err.permanent are all nodemailer's), pooled here:
// `delivery.connections` connections, each sending one message at a time and
// recycled after `maxMessagesPerConnection`.
//
// Why not nodemailer's own pool (`pool: true`)? Exactly-once needs a hook at
// one precise moment — after the whole body is in the kernel's socket buffer
// and right before the end-of-data "." — and the pool hides its connections
// and sockets. With the connection in hand, armCommit below records the
// point of no return in the ledger inside the very write() of the ".".

type Conn = InstanceType<typeof SMTPConnection>;
type SmtpError = Error & { code?: string; responseCode?: number; permanent?: boolean; response?: string };

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
  ignoreTLS?: boolean;
  requireTLS?: boolean;
  tlsRejectUnauthorized?: boolean;
}

/** SMTP_URL: smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (TLS from the start). */
export function parseSmtpUrl(url: string): SmtpSettings {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BroadsheetError('SMTP_URL_INVALID', { detail: 'not a URL' });
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:')
    throw new BroadsheetError('SMTP_URL_INVALID', { detail: `scheme ${u.protocol} (use smtp: or smtps:)` });
  if (!u.hostname) throw new BroadsheetError('SMTP_URL_INVALID', { detail: 'no host' });
  const secure = u.protocol === 'smtps:';
  const q = u.searchParams;
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    auth: u.username
      ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
      : undefined,
    ignoreTLS: q.get('ignoreTLS') === 'true',
    requireTLS: q.get('requireTLS') === 'true',
    tlsRejectUnauthorized: q.get('tlsRejectUnauthorized') !== 'false',
  };
}

const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EPROTOCOL',
  'ETLS',
  'EAUTH',
  'EDNS',
]);

/**
 * The message body for nodemailer, ended only once the socket has taken all
 * of it (no bytes left in our process), so the end-of-data marker that
 * follows goes straight to the kernel.
 */
class BodyStream extends Readable {
  private pushed = false;
  private ending = false;

  constructor(
    private readonly raw: Buffer,
    private readonly socket: Socket | undefined,
  ) {
    super();
  }

  override _read() {
    if (!this.pushed) {
      this.pushed = true;
      this.push(this.raw);
      return;
    }
    if (this.ending) return;
    this.ending = true;
    if (this.socket && this.socket.writableLength > 0) this.socket.once('drain', () => this.push(null));
    else this.push(null);
  }
}

const TERMINATORS = ['.\r\n', '\r\n.\r\n', '\n.\r\n'].map((t) => Buffer.from(t));
const isTerminator = (chunk: unknown) => Buffer.isBuffer(chunk) && TERMINATORS.some((t) => t.equals(chunk));

/**
 * msg.commit() runs inside the socket's write() of the end-of-data marker,
 * right before the bytes go to the kernel: the ledger row is `committed` in
 * the WAL, then — a few microseconds of synchronous code later, nothing
 * awaited — the "." is in the kernel's socket buffer, which the kernel
 * delivers even if this process is killed the next instant. A kill before
 * commit(): the server never saw the "." and drops the transaction; the
 * ledger says queued and the restart sends it. A kill after: the row stays
 * `committed` and is never sent again (see send.ts).
 */
function armCommit(socket: Socket, msg: OutgoingMessage, onCommitted: () => void): () => void {
  const write = socket.write;
  let done = false;
  socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (!done && isTerminator(chunk)) {
      done = true;
      try {
        msg.commit();
        onCommitted();
      } catch (err) {
        // Not recorded, so it must not be delivered: cut the transaction.
        socket.destroy(err as Error);
        return false;
      }
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Socket['write'];
  return () => {
    socket.write = write;
  };
}

interface Slot {
  conn?: Conn;
  ready?: Promise<Conn>;
  sent: number;
  dead: boolean;
}

export function createSmtpTransport(
  settings: SmtpSettings,
  opts: { connections: number; timeoutMs: number; maxMessagesPerConnection: number; name?: string },
): Transport {
  const slots: Slot[] = [];
  const idle: Slot[] = [];
  const waiting: ((s: Slot) => void)[] = [];
  for (let i = 0; i < opts.connections; i++) {
    const s: Slot = { sent: 0, dead: true };
    slots.push(s);
    idle.push(s);
  }

  const acquire = () =>
    new Promise<Slot>((resolve) => {
      const s = idle.pop();
      if (s) resolve(s);
      else waiting.push(resolve);
    });
  const release = (s: Slot) => {
    const w = waiting.shift();
    if (w) w(s);
    else idle.push(s);
  };

  const drop = (s: Slot) => {
    s.dead = true;
    s.ready = undefined;
    const c = s.conn;
    s.conn = undefined;
    if (c) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  };

  const connect = (s: Slot): Promise<Conn> => {
    if (s.ready && !s.dead) return s.ready;
    const conn = new SMTPConnection({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      ignoreTLS: settings.ignoreTLS,
      requireTLS: settings.requireTLS,
      tls: { rejectUnauthorized: settings.tlsRejectUnauthorized },
      name: opts.name,
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs,
      logger: false,
    });
    s.conn = conn;
    s.sent = 0;
    s.dead = false;
    // A connection that errors or closes is dropped; the next send reconnects.
    conn.on('error', () => {
      if (s.conn === conn) drop(s);
    });
    conn.on('end', () => {
      if (s.conn === conn) drop(s);
    });
    s.ready = new Promise<Conn>((resolve, reject) => {
      conn.connect((err) => {
        if (err) return reject(err);
        if (!settings.auth) return resolve(conn);
        conn.login({ credentials: settings.auth }, (e) => (e ? reject(e) : resolve(conn)));
      });
    });
    s.ready.catch(() => {
      if (s.conn === conn) drop(s);
    });
    return s.ready;
  };

  const reset = (s: Slot) =>
    new Promise<void>((resolve) => {
      const c = s.conn;
      if (!c || s.dead) return resolve();
      c.reset((err) => {
        if (err) drop(s);
        resolve();
      });
    });

  const sendOn = (conn: Conn, msg: OutgoingMessage) =>
    new Promise<{ info?: SMTPConnection.SentMessageInfo; err?: SmtpError; committed: boolean }>(
      (resolve, reject) => {
        const socket = (conn as unknown as { _socket?: Socket })._socket;
        if (!socket) return reject(new TransientDeliveryError('SMTP connection has no socket'));
        let committed = false;
        const disarm = armCommit(socket, msg, () => {
          committed = true;
        });
        conn.send(msg.envelope, new BodyStream(msg.raw, socket), (err, info) => {
          disarm();
          resolve({ err: err ?? undefined, info, committed });
        });
      },
    );

  return {
    name: 'smtp',
    async verify() {
      const s = await acquire();
      try {
        await connect(s);
      } catch (err) {
        drop(s);
        throw classify(err as SmtpError, false);
      } finally {
        release(s);
      }
    },
    async send(msg): Promise<DeliveryResult> {
      const s = await acquire();
      try {
        let conn: Conn;
        try {
          conn = await connect(s);
        } catch (err) {
          drop(s);
          throw classify(err as SmtpError, false);
        }
        const { err, info, committed } = await sendOn(conn, msg);
        if (err) {
          if (err.responseCode === 421 || CONNECTION_CODES.has(err.code ?? '') || !err.responseCode) drop(s);
          else await reset(s);
          throw classify(err, committed);
        }
        s.sent++;
        if (s.sent >= opts.maxMessagesPerConnection) {
          s.conn?.quit();
          drop(s);
        }
        const rejectedErrors = (info?.rejectedErrors ?? []) as SmtpError[];
        return {
          accepted: (info?.accepted ?? []).map(String),
          rejected: rejectedErrors.map((e) => ({
            recipient: String((e as { recipient?: string }).recipient ?? ''),
            code: e.responseCode,
            permanent: e.permanent ?? (e.responseCode !== undefined && e.responseCode >= 500),
            message: e.response ?? e.message,
          })),
          response: info?.response ?? '',
          messageId: msg.messageId,
        };
      } finally {
        release(s);
      }
    },
    async close() {
      for (const s of slots) {
        if (s.conn && !s.dead) s.conn.quit();
        drop(s);
      }
    },
  };
}

/** nodemailer's err.permanent (5xx except 503) decides; no reply code (dropped, timeout) is transient. */
function classify(err: SmtpError, committed: boolean) {
  const text = err.response ?? err.message;
  return err.permanent === true
    ? new PermanentDeliveryError(text, err.responseCode, committed, { cause: err })
    : new TransientDeliveryError(text, err.responseCode, committed, { cause: err });
}

export const smtp: TransportFactory = ({ ctx }) => {
  if (!ctx.secrets.smtpUrl) throw new BroadsheetError('SMTP_URL_MISSING', {});
  const d = ctx.config.delivery;
  return createSmtpTransport(parseSmtpUrl(ctx.secrets.smtpUrl), {
    connections: d.connections,
    timeoutMs: d.timeoutMs,
    maxMessagesPerConnection: d.maxMessagesPerConnection,
  });
};
