import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplyLine } from '../../src/delivery/transports/smtp-replies.ts';

// The reply reader of a pipelined connection, fed what a server sends cut at
// any byte: each index gets its own whole reply (multi-line ones joined),
// whatever order the messages on the connection ask for theirs in.

/** A stand-in socket: the events ReplyLine listens to, and nodemailer's reader as a listener to count. */
function fakeSocket() {
  const s = new EventEmitter() as EventEmitter & { destroyed: boolean };
  s.destroyed = false;
  return s as unknown as Socket;
}
const noReader = () => () => {};

// A reply: 1–3 lines of "NNN-text" … "NNN text"; text printable ASCII without CR/LF.
const replyArb = fc
  .tuple(
    fc.integer({ min: 200, max: 599 }),
    fc.array(
      fc.string({
        unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
        maxLength: 30,
      }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  )
  .map(([code, texts]) => texts.map((t, i) => `${code}${i < texts.length - 1 ? '-' : ' '}${t}`));

describe('ReplyLine', () => {
  it('gives each reserved index its whole reply, for any cut of the bytes and any order of asking (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(replyArb, { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.nat(),
        async (replies, bareLf, cutSeeds, orderSeeds, askedEarly) => {
          const socket = fakeSocket();
          const line = new ReplyLine(socket, noReader);
          line.enter();
          const first = line.reserve(replies.length);
          expect(first).toBe(0);
          const eol = bareLf ? '\n' : '\r\n';
          const bytes = Buffer.from(replies.map((r) => r.map((l) => l + eol).join('')).join(''), 'latin1');
          // Cut points anywhere, including inside a CRLF or a multi-line reply.
          const cuts = [...new Set(cutSeeds.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          // Some indexes are asked for before any byte arrives, the rest after, in a shuffled order.
          const order = replies.map((_, i) => i);
          for (let i = order.length - 1; i > 0; i--) {
            const j = (orderSeeds[i] ?? i) % (i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          const early = askedEarly % (order.length + 1);
          const got = new Map<number, Promise<string>>();
          for (const i of order.slice(0, early)) got.set(i, line.reply(i));
          let from = 0;
          for (const c of [...cuts, bytes.length]) {
            if (c > from) socket.emit('data', bytes.subarray(from, c));
            from = c;
          }
          for (const i of order.slice(early)) got.set(i, line.reply(i));
          for (const [i, p] of got) expect(await p).toBe(replies[i]!.join('\n'));
          expect(line.outOfStep).toBe(false);
          expect(line.waitsBefore()).toBe(false);
        },
      ),
      { seed: 20261203, numRuns: 300 },
    );
  });

  it('a reply beyond what was reserved puts the line out of step', () => {
    const socket = fakeSocket();
    const line = new ReplyLine(socket, noReader);
    line.enter();
    line.reserve(1);
    socket.emit('data', Buffer.from('250 ok\r\n250 surplus\r\n'));
    expect(line.outOfStep).toBe(true);
  });

  it('a closing connection rejects every awaited reply and every later ask', async () => {
    const socket = fakeSocket();
    const line = new ReplyLine(socket, noReader);
    line.enter();
    line.reserve(3);
    socket.emit('data', Buffer.from('250 ok\r\n'));
    const waiting = line.reply(1);
    socket.emit('close');
    await expect(line.reply(0)).resolves.toBe('250 ok');
    await expect(waiting).rejects.toMatchObject({ code: 'ECONNECTION' });
    await expect(line.reply(2)).rejects.toMatchObject({ code: 'ECONNECTION' });
  });

  it('gives the socket back to nodemailer only when the last pipelined message leaves', async () => {
    const socket = fakeSocket();
    const events: string[] = [];
    const line = new ReplyLine(socket, () => {
      events.push('detach');
      return () => events.push('reattach');
    });
    line.enter();
    line.enter();
    let idle = false;
    const quiet = line.idle().then(() => {
      idle = true;
    });
    line.leave();
    await Promise.resolve();
    expect(idle).toBe(false);
    expect(socket.listenerCount('data')).toBe(1);
    line.leave();
    await quiet;
    expect(events).toEqual(['detach', 'reattach']);
    expect(socket.listenerCount('data')).toBe(0);
  });
});
