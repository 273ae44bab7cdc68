import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { OutgoingMessage } from '../transport.ts';

// The point of no return of one SMTP message (see send.ts for the whole argument).

/**
 * The message body for nodemailer, ended only once the socket has taken all
 * of it (no bytes left in our process), so the end-of-data marker that
 * follows goes straight to the kernel.
 */
export class BodyStream extends Readable {
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
 * the WAL (synchronously, or — group commit, PostgreSQL — awaited, the marker
 * held until then), and the "." is in the kernel's socket buffer a few
 * microseconds later, which the kernel delivers even if this process is
 * killed the next instant. A kill before
 * commit(): the server never saw the "." and drops the transaction; the
 * ledger says queued and the restart sends it. A kill after: the row stays
 * `committed` and is never sent again (see send.ts).
 */
export function armCommit(socket: Socket, msg: OutgoingMessage, onCommitted: () => void): () => void {
  const write = socket.write;
  let done = false;
  socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (!done && isTerminator(chunk)) {
      done = true;
      let marked = false;
      let written = true;
      const mark = () => {
        if (marked || socket.destroyed) return;
        marked = true;
        written = (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
        onCommitted();
      };
      let pending: void | Promise<void>;
      try {
        pending = msg.commit(mark);
      } catch (err) {
        // Not recorded, so it must not be delivered: cut the transaction.
        socket.destroy(err as Error);
        return false;
      }
      if (pending) {
        // Group commit (the marker written at its COMMIT) or PostgreSQL: hold the
        // marker until the COMMIT is durable, then write it (the body is already
        // with the kernel); a failed commit cuts the transaction.
        pending.then(mark, (err: unknown) => socket.destroy(err as Error));
        return true;
      }
      // Nothing between the commit and the write: onCommitted (timers) runs after it.
      mark();
      return written;
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Socket['write'];
  return () => {
    socket.write = write;
  };
}
