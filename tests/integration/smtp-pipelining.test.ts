import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type SendSummary, sendEdition, summaryOfStopped } from '../../src/delivery/send.ts';
import { createSmtpTransport } from '../../src/delivery/transports/smtp.ts';
import { dotStuff } from '../../src/delivery/transports/smtp-pipeline.ts';
import { type BroadsheetError, isBroadsheetError } from '../../src/errors/index.ts';
import { Ledger, openStore, SubscriberRepo } from '../../src/store/index.ts';
import { digest, EDITION, tempDir, testContext } from '../fixtures/delivery/ctx.ts';

// SMTP PIPELINING (RFC 2920) against a scripted server on 127.0.0.1 that
// offers it: the envelope goes out in one write, and every fault in the
// pipelined group is classified by its stage exactly as without pipelining.

const READERS = ['a@example.com', 'b@example.com', 'c@example.com'];
const TIMEOUTS = {
  connectionTimeoutMs: 1500,
  greetingTimeoutMs: 1500,
  socketTimeoutMs: 2500,
  dataTimeoutMs: 1500,
};
const input = { editionId: EDITION, list: 'daily', listName: '每日簡報', digest };

/** What the server answers; undefined = the normal reply, 'close' = cut the connection instead. */
interface Script {
  pipelining?: boolean;
  mail?: (n: number) => string | 'close' | undefined;
  rcpt?: (rcpt: string, attempt: number) => string | 'close' | undefined;
  /** The reply to the DATA command. */
  data?: (rcpt: string) => string | undefined;
  /** The reply to the end of data. */
  end?: (rcpt: string) => string | 'close' | undefined;
  /** Hold the reply to the end of data this long; what follows on the connection waits for it, in order. */
  endDelayMs?: (rcpt: string) => number;
}

interface Server {
  port: number;
  received: { to: string; raw: string }[];
  /** Each chunk the server read that held a MAIL FROM. */
  mailChunks: string[];
  connections: number;
  rsets: number;
  close(): Promise<void>;
}

async function startServer(script: Script): Promise<Server> {
  const st: Server = {
    port: 0,
    received: [],
    mailChunks: [],
    connections: 0,
    rsets: 0,
    close: async () => {},
  };
  const attempts = new Map<string, number>();
  let mails = 0;
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    st.connections++;
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.on('error', () => {});
    let buf = '';
    let inData = false;
    let rcpts: string[] = [];
    const say = (reply: string | 'close') => {
      if (reply === 'close') return void c.destroy();
      c.write(`${reply}\r\n`);
      if (reply.startsWith('421')) c.end();
    };
    c.write('220 pipe.example ESMTP\r\n');
    /** Set while an end-of-data reply is held: the commands behind it wait, as on a real server. */
    let held = false;
    c.on('data', (d) => {
      const chunk = d.toString('latin1');
      if (/MAIL FROM/.test(chunk)) st.mailChunks.push(chunk);
      buf += chunk;
      pump();
    });
    const pump = () => {
      for (;;) {
        if (held || c.destroyed) return;
        if (inData) {
          const i = buf.indexOf('\r\n.\r\n');
          if (i < 0) return;
          const raw = buf.slice(0, i + 2);
          buf = buf.slice(i + 5);
          inData = false;
          const to = rcpts[0]!;
          rcpts = [];
          const answer = () => {
            const r = script.end?.(to);
            if (r !== undefined) say(r);
            else {
              st.received.push({ to, raw });
              say('250 2.0.0 queued');
            }
          };
          const delay = script.endDelayMs?.(to) ?? 0;
          if (delay > 0) {
            held = true;
            setTimeout(() => {
              held = false;
              answer();
              pump();
            }, delay);
            return;
          }
          answer();
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO')
          say(
            `250-pipe.example\r\n${script.pipelining === false ? '' : '250-PIPELINING\r\n'}250 SIZE 10485760`,
          );
        else if (verb === 'MAIL') say(script.mail?.(++mails) ?? '250 2.1.0 ok');
        else if (verb === 'RCPT') {
          const to = /<([^>]*)>/.exec(line)![1]!.toLowerCase();
          const n = (attempts.get(to) ?? 0) + 1;
          attempts.set(to, n);
          const r = script.rcpt?.(to, n);
          if (r === undefined) rcpts.push(to);
          say(r ?? '250 2.1.5 ok');
        } else if (verb === 'DATA') {
          const r = rcpts.length
            ? (script.data?.(rcpts[0]!) ?? '354 go ahead')
            : '554 5.5.1 no valid recipients';
          if (r.startsWith('354')) inData = true;
          say(r);
        } else if (verb === 'RSET') {
          st.rsets++;
          rcpts = [];
          say('250 2.0.0 reset');
        } else if (verb === 'QUIT') {
          say('221 bye');
          c.end();
        } else say('250 ok');
        if (c.destroyed) return;
      }
    };
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  st.port = (server.address() as AddressInfo).port;
  st.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return st;
}

const open: Server[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function run(script: Script, connections = 1, timeouts = TIMEOUTS) {
  const srv = await startServer(script);
  open.push(srv);
  const ctx = testContext(tempDir('bs-pipe-'), {
    delivery: { connections, retries: 1, backoffMs: 10, maxBackoffMs: 20, ...timeouts },
  });
  const db = openStore(ctx.paths.store);
  const repo = new SubscriberRepo(db);
  repo.upsertMany(
    READERS.map((email) => ({ email })),
    'test',
  );
  const send = async (port: number) => {
    const transport = createSmtpTransport(
      { host: '127.0.0.1', port, secure: false, ignoreTLS: true },
      { connections, maxMessagesPerConnection: 100, ...timeouts },
    );
    try {
      return await sendEdition(ctx, db, input, { transport });
    } catch (err) {
      return err as BroadsheetError;
    } finally {
      await transport.close?.();
    }
  };
  const first = await send(srv.port);
  const afterFirst = new Ledger(db).counts(EDITION);
  const statuses = READERS.map((r) => repo.get(r)!.status);
  // Then a server that accepts everything: what is left goes, once.
  const good = await startServer({});
  open.push(good);
  const second = await send(good.port);
  const final = new Ledger(db).counts(EDITION);
  db.close();
  return { srv, good, first, afterFirst, statuses, second, final };
}

const code = (r: unknown) => (isBroadsheetError(r) ? r.code : undefined);
const deliveredTo = (s: Server) => s.received.map((m) => m.to).sort();

describe('SMTP PIPELINING (RFC 2920)', () => {
  it('sends MAIL FROM, RCPT TO and DATA in one write, then body and "." with the next envelope behind it — every reader once', async () => {
    const r = await run({});
    expect(deliveredTo(r.srv)).toEqual(READERS);
    expect(r.srv.mailChunks).toHaveLength(3);
    for (const chunk of r.srv.mailChunks)
      expect(chunk).toMatch(/MAIL FROM:<[^>]+> SIZE=\d+\r\nRCPT TO:<[^>]+>\r\nDATA\r\n$/);
    // The first envelope opens the session's first group; each next one came in the same
    // write as the "." before it (RFC 2920: a message's content may start a group).
    expect(r.srv.mailChunks[0]).toMatch(/^MAIL FROM/);
    for (const chunk of r.srv.mailChunks.slice(1)) expect(chunk).toMatch(/\r\n\.\r\nMAIL FROM:</);
    expect(r.afterFirst).toMatchObject({ sent: 3, committed: 0, queued: 0 });
    expect(r.srv.connections).toBe(1);
    expect(r.good.received).toHaveLength(0);
    // What arrived is the whole message, headers first.
    expect(r.srv.received[0]!.raw).toMatch(/^[\s\S]*Message-ID: <[^>]+>[\s\S]*\r\n\r\n/i);
  });

  it('without PIPELINING on offer, waits for each reply (nodemailer path) and still delivers each once', async () => {
    const r = await run({ pipelining: false });
    expect(deliveredTo(r.srv)).toEqual(READERS);
    for (const chunk of r.srv.mailChunks) expect(chunk).not.toMatch(/RCPT TO/);
    expect(r.afterFirst).toMatchObject({ sent: 3, committed: 0 });
  });

  it('a RCPT 550 5.1.1 inside the batch bounces only that reader; the session goes on', async () => {
    const r = await run({ rcpt: (to) => (to === 'b@example.com' ? '550 5.1.1 No such user' : undefined) });
    expect(r.first).toMatchObject({ sent: 2, failed: 1 });
    expect(r.statuses).toEqual(['active', 'bounced', 'active']);
    expect(deliveredTo(r.srv)).toEqual(['a@example.com', 'c@example.com']);
    expect(r.srv.connections).toBe(1); // DATA's 554 consumed, RSET, next message on the same session
    expect(r.good.received).toHaveLength(0);
  });

  it("a RCPT 550 5.7.1 (relaying denied) inside the batch stops the run as the sender's fault", async () => {
    const r = await run({ rcpt: () => '550 5.7.1 Relaying denied' });
    expect(code(r.first)).toBe('SMTP_SENDER_REJECTED');
    expect((r.first as BroadsheetError).params).toMatchObject({ stage: 'RCPT TO' });
    expect(r.statuses).toEqual(['active', 'active', 'active']);
    expect(deliveredTo(r.good)).toEqual(READERS);
  });

  it('MAIL FROM 550 inside the batch → SMTP_SENDER_REJECTED at MAIL FROM, nobody bounced', async () => {
    const r = await run({ mail: () => '550 5.7.1 Sender address rejected' });
    expect(code(r.first)).toBe('SMTP_SENDER_REJECTED');
    expect((r.first as BroadsheetError).params).toMatchObject({ stage: 'MAIL FROM' });
    expect(r.afterFirst).toMatchObject({ sent: 0, committed: 0, failed: 0 });
    expect(r.statuses).toEqual(['active', 'active', 'active']);
    expect(deliveredTo(r.good)).toEqual(READERS);
  });

  it('the server drops the connection right after MAIL FROM → SMTP_DROPPED after the retries, nothing committed', async () => {
    const r = await run({ mail: () => 'close' });
    expect(code(r.first)).toBe('SMTP_DROPPED');
    expect(r.afterFirst).toMatchObject({ sent: 0, committed: 0 });
    expect(r.srv.received).toHaveLength(0);
    expect(deliveredTo(r.good)).toEqual(READERS);
    expect(r.final).toMatchObject({ sent: 3, committed: 0, queued: 0, deferred: 0 });
  });

  it('421 in the middle of the batch (at RCPT) is the server closing: retried on a new connection', async () => {
    const r = await run({ rcpt: (_to, n) => (n === 1 ? '421 4.3.2 Shutting down' : undefined) });
    expect(r.first).toMatchObject({ sent: 3, failed: 0 });
    expect((r.first as SendSummary).retried).toBeGreaterThanOrEqual(3);
    expect(r.srv.connections).toBeGreaterThanOrEqual(4);
    expect(deliveredTo(r.srv)).toEqual(READERS);
  });

  it('421 at every RCPT → SMTP_UNAVAILABLE once the retries are used up; the next run delivers each once', async () => {
    const r = await run({ rcpt: () => '421 4.3.2 Shutting down' });
    expect(code(r.first)).toBe('SMTP_UNAVAILABLE');
    expect(summaryOfStopped(r.first)?.stopped?.code).toBe('SMTP_UNAVAILABLE');
    expect(r.afterFirst).toMatchObject({ sent: 0, committed: 0 });
    expect(deliveredTo(r.good)).toEqual(READERS);
  });

  it('DATA 554 after the RCPT was accepted → SMTP_SENDER_REJECTED at DATA, nobody bounced, nothing committed', async () => {
    const r = await run({ data: () => '554 5.6.0 Transaction failed' });
    expect(code(r.first)).toBe('SMTP_SENDER_REJECTED');
    expect((r.first as BroadsheetError).params).toMatchObject({ stage: 'DATA' });
    expect(r.afterFirst).toMatchObject({ committed: 0, sent: 0, failed: 0 });
    expect(r.statuses).toEqual(['active', 'active', 'active']);
    expect(deliveredTo(r.good)).toEqual(READERS);
  });

  it('a connection dropped after the "." without a reply is retried (no proof the server read it): delivered once', async () => {
    let cut = 0;
    const r = await run({ end: (to) => (to === 'b@example.com' && ++cut === 1 ? 'close' : undefined) });
    expect(r.first).toMatchObject({ sent: 3, unconfirmed: 0 });
    expect((r.first as SendSummary).retried).toBeGreaterThanOrEqual(1);
    expect(r.afterFirst).toMatchObject({ sent: 3, committed: 0 });
    expect(deliveredTo(r.srv)).toEqual(READERS);
    expect(r.good.received).toHaveLength(0);
  });

  it('an end-of-data 550 5.2.2 bounces the reader; 451 there is retried', async () => {
    const tries = new Map<string, number>();
    const r = await run({
      end: (to) => {
        const n = (tries.get(to) ?? 0) + 1;
        tries.set(to, n);
        if (to === 'a@example.com') return '550 5.2.2 Mailbox full';
        if (to === 'c@example.com' && n === 1) return '451 4.3.0 Try again';
        return undefined;
      },
    });
    expect(r.first).toMatchObject({ sent: 2, failed: 1 });
    expect(r.statuses).toEqual(['bounced', 'active', 'active']);
    expect(deliveredTo(r.srv)).toEqual(['b@example.com', 'c@example.com']);
    // Each refused "." was followed on the same session by the next envelope: no RSET, no new connection.
    expect(r.srv.rsets).toBe(0);
    expect(r.srv.connections).toBe(1);
  });

  it('a reply to "." held past socketTimeoutMs (within dataTimeoutMs): the envelope behind it waits too — nothing cut, nothing resent', async () => {
    // The message behind a "." waits out that message's end-of-data limit, not its own socket limit:
    // else it would cut the connection under a message the server holds, and that one would go twice.
    const timeouts = { ...TIMEOUTS, socketTimeoutMs: 300, dataTimeoutMs: 3000 };
    const r = await run({ endDelayMs: (to) => (to === 'a@example.com' ? 1000 : 0) }, 1, timeouts);
    expect(r.first, JSON.stringify(r.first)).toMatchObject({ sent: 3, retried: 0, unconfirmed: 0 });
    expect(deliveredTo(r.srv)).toEqual(READERS);
    expect(r.srv.connections).toBe(1);
    expect(r.good.received).toHaveLength(0);
  });

  it('without PIPELINING too, a reply to "." held past socketTimeoutMs is waited for (dataTimeoutMs), not cut', async () => {
    const timeouts = { ...TIMEOUTS, socketTimeoutMs: 300, dataTimeoutMs: 3000 };
    const r = await run(
      { pipelining: false, endDelayMs: (to) => (to === 'b@example.com' ? 1000 : 0) },
      1,
      timeouts,
    );
    expect(r.first, JSON.stringify(r.first)).toMatchObject({ sent: 3, retried: 0, unconfirmed: 0 });
    expect(deliveredTo(r.srv)).toEqual(READERS);
    expect(r.srv.connections).toBe(1);
  });

  it('421 in reply to a "." with the next envelope behind it: that message is retried, the one behind too, each delivered once', async () => {
    let cut = 0;
    const r = await run({
      end: (to) => (to === 'a@example.com' && ++cut === 1 ? '421 4.3.2 Shutting down' : undefined),
    });
    expect(r.first).toMatchObject({ sent: 3, unconfirmed: 0 });
    expect((r.first as SendSummary).retried).toBeGreaterThanOrEqual(2);
    expect(r.srv.connections).toBeGreaterThanOrEqual(2);
    expect(deliveredTo(r.srv)).toEqual(READERS);
    expect(r.good.received).toHaveLength(0);
  });
});

describe('dotStuff', () => {
  const s = (x: string) => dotStuff(Buffer.from(x)).toString();
  it('doubles a leading dot on every line and ends with CRLF', () => {
    expect(s('a\r\n.b\r\n..c\r\nd')).toBe('a\r\n..b\r\n...c\r\nd\r\n');
    expect(s('.x\r\n')).toBe('..x\r\n');
    expect(s('plain\r\n')).toBe('plain\r\n');
    expect(s('\r\n.\r\n')).toBe('\r\n..\r\n');
  });
  it('returns the same buffer when nothing needs stuffing', () => {
    const b = Buffer.from('Subject: x\r\n\r\nbody\r\n');
    expect(dotStuff(b)).toBe(b);
  });
});
