import type { Socket } from 'node:net';
import { connectionClosed } from './smtp-classify.ts';

// The replies of one SMTP connection while messages are pipelined on it
// (RFC 2920). A command reserves the index of its reply when it is written,
// in the order written; each message then reads its own replies by index. So
// two messages in flight on one connection — one awaiting the reply to its
// end-of-data ".", the next one's envelope written right behind that "." —
// each get theirs, whatever order their code happens to run in.
//
// nodemailer's own reader is off the socket while any pipelined message uses
// it, and back on once none does (RSET, QUIT and nodemailer's send use it).

export class ReplyLine {
  private buf = '';
  private lines: string[] = [];
  /** Whole replies read so far, and reply indexes handed out. */
  private received = 0;
  private reserved = 0;
  private readonly early = new Map<number, string>();
  private readonly waiting = new Map<number, { resolve: (r: string) => void; reject: (e: Error) => void }>();
  private users = 0;
  private reattach: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly socket: Socket,
    /** Takes nodemailer's reader off the socket; returns the undo. */
    private readonly detachReader: () => () => void,
  ) {
    // A connection that closes settles every reply still awaited: nothing waits past it.
    socket.once('close', () => {
      this.closed = true;
      for (const w of this.waiting.values()) w.reject(connectionClosed());
      this.waiting.clear();
    });
  }

  private readonly onData = (chunk: Buffer) => {
    this.buf += chunk.toString('latin1');
    let i = this.buf.indexOf('\n');
    while (i >= 0) {
      const line = this.buf.slice(0, i).replace(/\r$/, '');
      this.buf = this.buf.slice(i + 1);
      this.lines.push(line);
      if (!/^\d{3}-/.test(line)) {
        const reply = this.lines.join('\n');
        this.lines = [];
        const at = this.received++;
        const w = this.waiting.get(at);
        if (w) {
          this.waiting.delete(at);
          w.resolve(reply);
        } else this.early.set(at, reply);
      }
      i = this.buf.indexOf('\n');
    }
  };

  /** Reserves the next `n` replies (call right where their commands are written); returns the first index. */
  reserve(n: number): number {
    const first = this.reserved;
    this.reserved += n;
    return first;
  }

  /** Reply number `at`; rejects once the connection closes without it. */
  reply(at: number): Promise<string> {
    const r = this.early.get(at);
    if (r !== undefined) {
      this.early.delete(at);
      return Promise.resolve(r);
    }
    if (this.closed) return Promise.reject(connectionClosed());
    return new Promise((resolve, reject) => this.waiting.set(at, { resolve, reject }));
  }

  /** Is a reply written before index `at` (default: the next one reserved) still to come? */
  waitsBefore(at = this.reserved): boolean {
    return this.received < at;
  }

  /** More replies came than commands were written: the server is out of step. */
  get outOfStep(): boolean {
    return this.received > this.reserved;
  }

  /** A pipelined message starts using the connection. */
  enter(): void {
    if (this.users++ > 0) return;
    this.reattach = this.detachReader();
    this.socket.on('data', this.onData);
  }

  /** …and is done with it; the last one gives the socket back to nodemailer. */
  leave(): void {
    if (--this.users > 0) return;
    this.socket.off('data', this.onData);
    this.reattach?.();
    this.reattach = undefined;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /** Resolves once no pipelined message uses the connection (nodemailer may talk on it again). */
  idle(): Promise<void> {
    if (this.users === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
