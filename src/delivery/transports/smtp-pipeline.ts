import type { Socket } from 'node:net';
import type { OutgoingMessage } from '../transport.ts';
import { connectionClosed, type SmtpError } from './smtp-classify.ts';
import type { ReplyLine } from './smtp-replies.ts';

// One message on a ready session whose server offered PIPELINING (RFC 2920),
// written by us on nodemailer's socket (nodemailer keeps the greeting, EHLO,
// STARTTLS, AUTH, RSET and QUIT, and its 'error'/'end' events and idle timer).
//
//   MAIL FROM + RCPT TO + DATA   one write; the three replies read in order
//   the body, dot-stuffed        one write, with no copy when no line starts with "."
//   commit(); "."                once the socket has taken the whole body — and in the
//                                same write, the next message's MAIL/RCPT/DATA when one
//                                is waiting for this connection (smtp.ts handOff)
//   the reply to "."             250 → sent (read while the next message goes on)
//
// RFC 2920 § 3.1: DATA ends a group, so nothing follows it before its 354; a
// message's content may start one, so the next envelope may follow its ".".
// Each message reads its own replies by the index reserved when its commands
// were written (smtp-replies.ts), so two on one connection never mix them up.
// Why not nodemailer's send (it pipelines too): its DataStream escapes the body
// in JavaScript chunk by chunk and hands the socket dozens of small writes per
// message, which was most of the CPU of a send (bench/send.ts). The errors made
// here carry nodemailer's shape (command, responseCode, response), so
// smtp-classify.ts decides by stage exactly as before.

export interface PipelinedInfo {
  accepted: string[];
  rejectedErrors: SmtpError[];
  response: string;
}

/** What a session must offer for this path; otherwise nodemailer sends the message. */
export interface SessionInfo {
  extensions: string[];
  /** SIZE the server announced (0: none). */
  maxSize: number;
}

const DOT_LINE = Buffer.from('\r\n.');
const CRLF = Buffer.from('\r\n');
const END = Buffer.from('.\r\n');

/**
 * RFC 5321 § 4.5.2: a line that starts with "." gets one more; the body ends
 * with CRLF so the "." that follows is a line of its own.
 */
export function dotStuff(raw: Buffer): Buffer {
  let at = raw.indexOf(DOT_LINE);
  const first = raw.length > 0 && raw[0] === 0x2e;
  const tail = raw.length >= 2 && raw[raw.length - 2] === 0x0d && raw[raw.length - 1] === 0x0a;
  if (at < 0 && !first) return tail ? raw : Buffer.concat([raw, CRLF]);
  const parts: Buffer[] = [];
  let from = 0;
  if (first) {
    parts.push(Buffer.from('.'));
  }
  while (at >= 0) {
    parts.push(raw.subarray(from, at + 2), Buffer.from('.'));
    from = at + 2;
    at = raw.indexOf(DOT_LINE, from);
  }
  parts.push(raw.subarray(from));
  if (!tail) parts.push(CRLF);
  return Buffer.concat(parts);
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** Can this message go the pipelined way on this session? */
export function canPipeline(session: SessionInfo, msg: OutgoingMessage): boolean {
  if (!session.extensions.includes('PIPELINING')) return false;
  // Non-ASCII addresses need SMTPUTF8 handling: nodemailer's path has it.
  return isAscii(msg.envelope.from) && msg.envelope.to.every(isAscii);
}

const smtpError = (command: string, reply: string, code = 'EENVELOPE'): SmtpError =>
  Object.assign(new Error(`${command} failed: ${reply}`), {
    code,
    command,
    response: reply,
    responseCode: Number(reply.slice(0, 3)) || undefined,
  });

export interface PipelineHooks {
  /** Called once the "." is written: the step's deadline becomes the end-of-data one. */
  committed(): void;
  /**
   * Called as the "." is written: the next message's envelope to write in the
   * same write, right behind it (RFC 2920: a message's content may start a
   * group), its replies reserved on `line` after this one's; or nothing.
   */
  behindDot?(line: ReplyLine): string | undefined;
  /** The reply to MAIL FROM came: whatever this message waited behind is done. */
  mailAnswered?(): void;
}

/** MAIL FROM, one RCPT TO per recipient and DATA: one string, one write. */
export function envelopeOf(session: SessionInfo, msg: OutgoingMessage): string {
  const sizeArg = session.extensions.includes('SIZE') ? ` SIZE=${msg.raw.length}` : '';
  let out = `MAIL FROM:<${msg.envelope.from}>${sizeArg}\r\n`;
  for (const r of msg.envelope.to) out += `RCPT TO:<${r}>\r\n`;
  return `${out}DATA\r\n`;
}

/** How many replies an envelope gets. */
export const envelopeReplies = (msg: OutgoingMessage) => msg.envelope.to.length + 2;

/** Over the SIZE the server announced: refused before a byte is sent. */
export const overSize = (session: SessionInfo, msg: OutgoingMessage) =>
  session.maxSize > 0 && msg.raw.length > session.maxSize;

/**
 * One pipelined transaction. Resolves with nodemailer-shaped info, rejects
 * with a nodemailer-shaped error (command = the stage). The caller runs it
 * inside its step (deadline, connection 'error'/'end'). `first`: the envelope
 * was already written behind the previous message's "." and its replies start
 * at this index; else it is written here.
 */
export async function sendPipelined(
  socket: Socket,
  line: ReplyLine,
  session: SessionInfo,
  msg: OutgoingMessage,
  hooks: PipelineHooks,
  first?: number,
): Promise<PipelinedInfo> {
  // Like nodemailer: over the announced SIZE is refused before a byte is sent (classified at MAIL FROM).
  if (first === undefined && overSize(session, msg))
    throw smtpError('MAIL FROM', `552 Message size larger than allowed ${session.maxSize}`, 'EMESSAGE');
  if (socket.destroyed) throw connectionClosed();
  line.enter();
  try {
    const to = msg.envelope.to;
    if (first === undefined) {
      first = line.reserve(envelopeReplies(msg));
      socket.write(envelopeOf(session, msg));
    }

    // Every reply of the group is read before deciding, so the session stays in step for RSET —
    // except 421: the server is closing, the rest will not come (RFC 5321 § 3.8).
    const mail = await line.reply(first);
    hooks.mailAnswered?.();
    if (mail.startsWith('421')) throw smtpError('MAIL FROM', mail);
    const accepted: string[] = [];
    const rejectedErrors: SmtpError[] = [];
    for (let k = 0; k < to.length; k++) {
      const r = to[k]!;
      const reply = await line.reply(first + 1 + k);
      if (reply.startsWith('421')) throw smtpError('RCPT TO', reply);
      if (reply.startsWith('2')) accepted.push(r);
      else rejectedErrors.push(Object.assign(smtpError('RCPT TO', reply), { recipient: r }));
    }
    const data = await line.reply(first + 1 + to.length);
    if (data.startsWith('421')) throw smtpError('DATA', data);
    if (!mail.startsWith('2')) {
      // A 354 after a refused MAIL FROM (a broken server): the open DATA must never get a ".".
      if (data.startsWith('3')) socket.destroy();
      throw smtpError('MAIL FROM', mail);
    }
    if (!accepted.length) {
      if (data.startsWith('3')) socket.destroy();
      const last = rejectedErrors[rejectedErrors.length - 1]!;
      throw last;
    }
    if (!data.startsWith('354')) throw smtpError('DATA', data, 'EMESSAGE');

    // The body, then — only once none of it is left in this process — commit and ".".
    // write()'s callback runs once this chunk (and all before it) left the process for the
    // kernel — at once when the kernel took it whole. ('drain' is no signal: it comes only
    // after a write() that returned false, and a TLS socket buffers above its watermark.)
    await new Promise<void>((resolve, reject) =>
      socket.write(msg.dotSafe ? msg.raw : dotStuff(msg.raw), (err) => (err ? reject(err) : resolve())),
    );
    if (socket.destroyed) throw connectionClosed();
    // The ".", written by the ledger right after a group COMMIT, or below — with the
    // next message's envelope behind it when one is waiting for this connection.
    let marked = false;
    let endAt = -1;
    const mark = () => {
      if (marked || socket.destroyed) return;
      marked = true;
      endAt = line.reserve(1);
      const next = hooks.behindDot?.(line);
      socket.write(next ? `.\r\n${next}` : END);
      hooks.committed();
    };
    try {
      const pending = msg.commit(mark);
      // SQLite group commit (this turn's marks, "." written at its COMMIT) or
      // PostgreSQL (the COMMIT's round trip), with the body already sent. The
      // server waits for the "."; nothing else is written on this socket meanwhile.
      if (pending) await pending;
    } catch (err) {
      // Not recorded (or another worker has it), so it must not be delivered: cut the transaction.
      socket.destroy();
      throw err;
    }
    if (!marked && socket.destroyed) throw connectionClosed();
    // Nothing between the commit and this write (see smtp-commit.ts for the argument).
    mark();
    const end = await line.reply(endAt);
    if (line.outOfStep) socket.destroy();
    if (!end.startsWith('2')) throw smtpError('DATA', end, 'EMESSAGE');
    return { accepted, rejectedErrors, response: end };
  } finally {
    line.leave();
  }
}
