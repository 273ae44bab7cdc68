import type { Socket } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { BroadsheetError } from '../../errors/index.ts';
import { type SmtpTimeouts, smtpTimeouts } from '../config.ts';
import type { DeliveryResult, OutgoingMessage, Transport, TransportFactory } from '../transport.ts';
import { classify, connectionClosed, isInvalidName, type SmtpError } from './smtp-classify.ts';
import { armCommit, BodyStream } from './smtp-commit.ts';
import {
  canPipeline,
  envelopeOf,
  envelopeReplies,
  overSize,
  type SessionInfo,
  sendPipelined,
} from './smtp-pipeline.ts';
import { ReplyLine } from './smtp-replies.ts';
import type { SmtpSettings } from './smtp-url.ts';
import { parseSmtpUrl } from './smtp-url.ts';

// SMTP through nodemailer's SMTPConnection (greeting, EHLO, STARTTLS, AUTH,
// reply codes are all nodemailer's), pooled here: `delivery.connections`
// connections, each sending one message at a time and recycled after
// `maxMessagesPerConnection`. When the server offers PIPELINING, the message
// itself goes out through smtp-pipeline.ts on the same socket (one write for
// the envelope, one for the body, the "." after commit()); otherwise through
// nodemailer's send with armCommit below.
//
// Why not nodemailer's own pool (`pool: true`)? Exactly-once needs a hook at
// one precise moment — after the whole body is in the kernel's socket buffer
// and right before the end-of-data "." — and the pool hides its connections
// and sockets. With the connection in hand, armCommit (smtp-commit.ts) records the
// point of no return in the ledger inside the very write() of the ".".
//
// Every step on a connection settles exactly once (see `step`): nodemailer
// reports a socket that fails before the greeting only as an 'error' event and
// never calls connect()'s callback, and an idle timer alone never fires on a
// server that drips one byte a second. So each phase has an overall deadline.

type Conn = InstanceType<typeof SMTPConnection>;

export { parseSmtpUrl, type SmtpSettings } from './smtp-url.ts';

type Done<T> = (err?: Error | null, value?: T) => void;
type Arm = (ms: number, phase: string, setting: keyof SmtpTimeouts) => void;

const deadlineError = (phase: string, setting: string, ms: number): SmtpError =>
  Object.assign(new Error(`no ${phase} within ${ms} ms`), { code: 'ETIMEDOUT', phase, setting, ms });

/**
 * One step on a connection (connect + login, a message, a reset), settled
 * exactly once: by its callback, by the connection's 'error' or 'end', or by
 * its deadline — which `run` may re-arm when the step enters a new phase. At
 * the deadline the connection is destroyed, so nothing of it lingers.
 */
function step<T>(
  conn: Conn,
  first: [ms: number, phase: string, setting: keyof SmtpTimeouts],
  run: (done: Done<T>, arm: Arm) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const done: Done<T> = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.off('error', onError);
      conn.off('end', onEnd);
      if (err) reject(err);
      else resolve(value as T);
    };
    const onError = (err: Error) => done(err);
    const onEnd = () => done(connectionClosed());
    const arm: Arm = (ms, phase, setting) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        done(deadlineError(phase, setting, ms));
        destroy(conn);
      }, ms);
    };
    conn.on('error', onError);
    conn.once('end', onEnd);
    arm(...first);
    try {
      run(done, arm);
    } catch (err) {
      done(err as Error);
    }
  });
}

/** How long a connection the server refused at setup rests while another of ours works (readySlot). */
const REST_MS = 5_000;

/** nodemailer's current socket of a connection (the TLS one after STARTTLS): no public accessor. */
const socketOf = (conn: Conn) => (conn as unknown as { _socket?: Socket })._socket;

function destroy(conn: Conn) {
  try {
    socketOf(conn)?.destroy();
    conn.close();
  } catch {
    // already closed
  }
}

interface Slot {
  conn?: Conn;
  ready?: Promise<Conn>;
  /** Messages given this connection so far (it is recycled at maxMessagesPerConnection). */
  sent: number;
  dead: boolean;
}

/** A slot given to a send; `pre`: its envelope is already written, behind the "." of the message before. */
interface Grant {
  slot: Slot;
  pre?: { conn: Conn; first: number };
}

interface Waiter {
  grant: (g: Grant) => void;
  msg?: OutgoingMessage;
}

export interface SmtpTransportOptions extends Partial<SmtpTimeouts> {
  connections: number;
  maxMessagesPerConnection: number;
  name?: string;
  /** The old single timeout: the default for each of the four above. */
  timeoutMs?: number;
}

export function createSmtpTransport(settings: SmtpSettings, opts: SmtpTransportOptions): Transport {
  const t = smtpTimeouts(opts);
  const slots: Slot[] = [];
  const idle: Slot[] = [];
  const waiting: Waiter[] = [];
  for (let i = 0; i < opts.connections; i++) {
    const s: Slot = { sent: 0, dead: true };
    slots.push(s);
    idle.push(s);
  }
  const where = (setup: boolean, committed = false) => ({
    host: settings.host,
    port: settings.port,
    user: settings.auth?.user,
    setup,
    committed,
    timeouts: t,
  });

  const acquire = (msg?: OutgoingMessage) =>
    new Promise<Grant>((resolve) => {
      const s = idle.pop();
      if (s) resolve({ slot: s });
      else waiting.push({ grant: resolve, msg });
    });
  const release = (s: Slot) => {
    const w = waiting.shift();
    if (w) w.grant({ slot: s });
    else idle.push(s);
  };

  const drop = (s: Slot) => {
    s.dead = true;
    s.ready = undefined;
    const c = s.conn;
    s.conn = undefined;
    if (c) destroy(c);
  };

  /**
   * Opens the slot's connection. `gate`: a warm-up connection (see verify) logs in only
   * once the verifying one has — a wrong password is tried once, not once per connection.
   */
  const connect = (s: Slot, gate?: Promise<unknown>): Promise<Conn> => {
    if (s.ready && !s.dead) return s.ready;
    // RFC 6761 § 6.4: answer at once for a name that can never resolve (no query leaves).
    if (isInvalidName(settings.host))
      return Promise.reject(
        Object.assign(new Error(`${settings.host} is a reserved .invalid name`), {
          code: 'EDNS',
          originalCode: 'ENOTFOUND',
          command: 'CONN',
        }),
      );
    const conn = new SMTPConnection({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      ignoreTLS: settings.ignoreTLS,
      requireTLS: settings.requireTLS,
      tls: { rejectUnauthorized: settings.tlsRejectUnauthorized, ...(settings.ca && { ca: settings.ca }) },
      name: opts.name,
      connectionTimeout: t.connectionTimeoutMs,
      greetingTimeout: t.greetingTimeoutMs,
      socketTimeout: t.socketTimeoutMs,
      dnsTimeout: t.connectionTimeoutMs,
      // A connection we give up on goes at once; waiting for the server to close its side buys nothing.
      socketCloseTimeout: 0,
      logger: false,
    } as SMTPConnection.Options);
    s.conn = conn;
    s.sent = 0;
    s.dead = false;
    // A connection that errors or closes is dropped; the next send reconnects. This
    // listener also keeps an 'error' between steps from being thrown.
    conn.on('error', () => {
      // Deferred: closing here would emit 'end' before a pending step has seen this error.
      setImmediate(() => {
        if (s.conn === conn) drop(s);
      });
    });
    conn.on('end', () => {
      if (s.conn === conn) drop(s);
    });
    // Connect and greeting are nodemailer's phases (named precisely when they time out);
    // the overall deadline also covers EHLO, STARTTLS and AUTH, which only had an idle timer.
    const setupMs = t.connectionTimeoutMs + t.greetingTimeoutMs;
    s.ready = step<Conn>(
      conn,
      [setupMs, 'ready session (greeting, EHLO, STARTTLS, AUTH)', 'greetingTimeoutMs'],
      (done) =>
        conn.connect((err) => {
          if (err) return done(err);
          if (!settings.auth) return done(null, conn);
          const login = () =>
            conn.login({ credentials: settings.auth! }, (e) => (e ? done(e) : done(null, conn)));
          if (!gate) return login();
          gate.then(login, (e: Error) => done(e));
        }),
    );
    s.ready.catch(() => {
      if (s.conn === conn) drop(s);
    });
    return s.ready;
  };

  const reset = async (s: Slot) => {
    const c = s.conn;
    if (!c || s.dead) return;
    await quiet(c);
    if (s.conn !== c || s.dead) return;
    await step<void>(c, [t.socketTimeoutMs, 'reply to RSET', 'socketTimeoutMs'], (done) =>
      c.reset((err) => done(err)),
    ).catch(() => drop(s));
  };

  /** What nodemailer learnt from EHLO (its internals: no public accessor). */
  const sessionOf = (conn: Conn): SessionInfo => {
    const c = conn as unknown as { _supportedExtensions?: string[]; _maxAllowedSize?: number };
    return { extensions: c._supportedExtensions ?? [], maxSize: c._maxAllowedSize ?? 0 };
  };
  /** nodemailer's reader off the socket while pipelined messages use it; returns the undo. */
  const detachReader = (conn: Conn, socket: Socket) => () => {
    const onData = (conn as unknown as { _onSocketData?: (b: Buffer) => void })._onSocketData;
    if (onData) socket.off('data', onData);
    return () => {
      if (onData && !socket.destroyed) socket.on('data', onData);
    };
  };
  const lines = new WeakMap<Socket, ReplyLine>();
  const lineOf = (conn: Conn, socket: Socket) => {
    const known = lines.get(socket);
    if (known) return known;
    const l = new ReplyLine(socket, detachReader(conn, socket));
    lines.set(socket, l);
    return l;
  };
  /** Resolves once no pipelined message uses the connection, so nodemailer may talk on it. */
  const quiet = (conn: Conn) => {
    const socket = socketOf(conn);
    return (socket && lines.get(socket)?.idle()) ?? Promise.resolve();
  };

  const messagePhase: [number, string, keyof SmtpTimeouts] = [
    t.socketTimeoutMs,
    'reply while sending the message (MAIL FROM to end of body)',
    'socketTimeoutMs',
  ];
  const endPhase = ['reply to the end-of-data "."', 'dataTimeoutMs'] as const;

  // While a message awaits the reply to its ".", nodemailer's idle timer on the socket allows
  // dataTimeoutMs (RFC 5321 § 4.5.3.2.6 suggests 10 minutes), not socketTimeoutMs: a server
  // checking a message that long is not a silent connection. Counted per socket, so a message
  // that finishes does not shorten the wait of the next one past its "." on the same connection.
  const pastDot = new WeakMap<Socket, number>();
  const endWaitBegins = (socket: Socket) => {
    const n = (pastDot.get(socket) ?? 0) + 1;
    pastDot.set(socket, n);
    if (n === 1) socket.setTimeout(t.dataTimeoutMs);
  };
  const endWaitEnds = (socket: Socket) => {
    const n = (pastDot.get(socket) ?? 1) - 1;
    pastDot.set(socket, n);
    if (n === 0 && !socket.destroyed) socket.setTimeout(t.socketTimeoutMs);
  };

  const behindPhase: [number, string, keyof SmtpTimeouts] = [
    t.dataTimeoutMs,
    'reply to the end-of-data "." of the message before it on the connection',
    'dataTimeoutMs',
  ];

  /**
   * At a message's ".": the connection goes on to the next message at once,
   * while this one awaits its reply. The first waiting message that can be
   * pipelined has its envelope written in the same write as the "."; else
   * the slot is simply released. The last message a connection may carry keeps it.
   */
  const handOff = (s: Slot, conn: Conn, session: SessionInfo, line: ReplyLine): string | false => {
    if (s.conn !== conn || s.dead || s.sent >= opts.maxMessagesPerConnection) return false;
    const w = waiting[0];
    if (w?.msg && canPipeline(session, w.msg) && !overSize(session, w.msg)) {
      waiting.shift();
      const first = line.reserve(envelopeReplies(w.msg));
      s.sent++;
      w.grant({ slot: s, pre: { conn, first } });
      return envelopeOf(session, w.msg);
    }
    release(s);
    return '';
  };

  /**
   * One transaction; `committed` tells whether the "." went out (the error then is after
   * the point of no return); `handedOff`, whether the slot went on to the next message then.
   */
  const sendOn = async (s: Slot, conn: Conn, msg: OutgoingMessage, first?: number) => {
    const socket = socketOf(conn);
    let committed = false;
    let handedOff = false;
    let disarm = () => {};
    const session = sessionOf(conn);
    try {
      if (socket && (first !== undefined || canPipeline(session, msg))) {
        const line = lineOf(conn, socket);
        // Behind another message's "." the first reply waits for that one's: its deadline first.
        const behind = line.waitsBefore(first);
        const info = await step<SMTPConnection.SentMessageInfo>(
          conn,
          behind ? behindPhase : messagePhase,
          (done, arm) => {
            sendPipelined(
              socket,
              line,
              session,
              msg,
              {
                mailAnswered: () => {
                  if (behind) arm(...messagePhase);
                },
                behindDot: (l) => {
                  const next = handOff(s, conn, session, l);
                  if (next !== false) handedOff = true;
                  return next || undefined;
                },
                committed: () => {
                  committed = true;
                  // From here the server has the whole message: only its reply is awaited.
                  arm(t.dataTimeoutMs, ...endPhase);
                  endWaitBegins(socket);
                },
              },
              first,
            ).then(
              (i) => done(null, i as unknown as SMTPConnection.SentMessageInfo),
              (e) => done(e),
            );
          },
        );
        return { info, committed, handedOff };
      }
      // nodemailer's path: only once no pipelined message is on the connection.
      await quiet(conn);
      const info = await step<SMTPConnection.SentMessageInfo>(conn, messagePhase, (done, arm) => {
        if (!socket)
          return done(Object.assign(new Error('SMTP connection has no socket'), { code: 'ECONNECTION' }));
        disarm = armCommit(socket, msg, () => {
          committed = true;
          arm(t.dataTimeoutMs, ...endPhase);
          endWaitBegins(socket);
        });
        // With its size (RFC 1870), a message over the server's limit is refused before a byte is sent.
        const envelope = { ...msg.envelope, size: msg.raw.length };
        conn.send(envelope, new BodyStream(msg.raw, socket), (err, info) => done(err, info));
      });
      return { info, committed, handedOff };
    } catch (err) {
      return { err: err as SmtpError, committed, handedOff };
    } finally {
      disarm();
      if (committed && socket) endWaitEnds(socket);
    }
  };

  const failSetup = (s: Slot, err: unknown) => {
    drop(s);
    return classify(err as SmtpError, where(true));
  };

  // A server that takes fewer connections at once than we open (Postfix's
  // smtpd_client_connection_count_limit, Exchange's "421 4.3.2 … maximum number of
  // concurrent connections") refuses, drops or stalls the others at their greeting
  // while one of ours works. Such a failure is not the message's: its slot rests
  // a while and the message waits for a connection that works, instead of using
  // up its retries on the refused ones (every message of a send met them).
  // "Another is up" is a slot connected or still connecting (not dead): the
  // extra connections' 421s often come before the first one has finished its
  // EHLO. A server that has gone away fails those too, and the last of them
  // (no other left up) fails the message as before: a refused server still
  // ends the run at once (smtp-faults: "goes away mid-send").
  const resting = new Set<ReturnType<typeof setTimeout>>();
  const rest = (s: Slot) => {
    const timer = setTimeout(() => {
      resting.delete(timer);
      release(s);
    }, REST_MS);
    resting.add(timer);
  };
  /** A slot with its connection ready for `msg`. */
  const readySlot = async (msg: OutgoingMessage): Promise<{ g: Grant; conn: Conn }> => {
    for (;;) {
      const g = await acquire(msg);
      if (g.pre) return { g, conn: g.pre.conn };
      const s = g.slot;
      try {
        const conn = await connect(s);
        s.sent++;
        return { g, conn };
      } catch (err) {
        const e = failSetup(s, err);
        if (e.scope === 'connection' && !e.permanent && slots.some((o) => o !== s && !o.dead)) {
          rest(s);
          continue;
        }
        release(s);
        throw e;
      }
    }
  };

  return {
    name: 'smtp',
    // One message past its "." awaiting the reply on each connection, and the next one going out behind it.
    concurrency: 2 * opts.connections,
    async verify(o) {
      const { slot: s } = await acquire();
      try {
        const first = connect(s);
        // The other connections open meanwhile, so a send pays the server's greeting
        // wait (smtp-server's early-talker 100 ms, postscreen's seconds) once, not twice.
        // A failed one is simply dropped: send() opens it again (and classifies what fails).
        if (o?.warm) for (const other of idle) if (other.dead) connect(other, first).catch(() => {});
        await first;
      } catch (err) {
        throw failSetup(s, err);
      } finally {
        release(s);
      }
    },
    async send(msg): Promise<DeliveryResult> {
      const { g, conn } = await readySlot(msg);
      const s = g.slot;
      let held = true;
      try {
        // Its envelope went out behind the last "." of a connection that has closed since.
        const r =
          g.pre && (s.conn !== conn || s.dead)
            ? { err: connectionClosed(), committed: false, handedOff: false }
            : await sendOn(s, conn, msg, g.pre?.first);
        // At its "." the slot went on to the next message: no longer ours to release, reset or recycle.
        if (r.handedOff) held = false;
        if (r.err) {
          const e = classify(r.err, where(false, r.committed));
          // A reply about this reader or this message leaves the session usable; anything else ends it.
          const usable = r.err.responseCode && r.err.responseCode !== 421 && e.scope !== 'connection';
          if (!usable) {
            if (s.conn === conn) drop(s);
          } else if (held) await reset(s);
          throw e;
        }
        const info = r.info;
        if (held && s.sent >= opts.maxMessagesPerConnection) {
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
        if (held) release(s);
      }
    },
    async close() {
      for (const r of resting) clearTimeout(r);
      resting.clear();
      for (const s of slots) {
        if (s.conn && !s.dead) s.conn.quit();
        drop(s);
      }
    },
  };
}

export const smtp: TransportFactory = ({ ctx }) => {
  if (!ctx.secrets.smtpUrl) throw new BroadsheetError('SMTP_URL_MISSING', {});
  const d = ctx.config.delivery;
  return createSmtpTransport(parseSmtpUrl(ctx.secrets.smtpUrl), {
    ...smtpTimeouts(d),
    connections: d.connections,
    maxMessagesPerConnection: d.maxMessagesPerConnection,
  });
};
