import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsPostgres } from '../helpers/pg.ts';
import { EDITION, exited, type FanoutWorld, fanoutWorld, wait } from './fanout-fixture.ts';

// A worker facing an SMTP server that refuses connections, never greets, or
// drops every connection after its greeting (issue 17): each message of the
// batch ends `deferred` with a catalog code in last_error, in bounded time
// (the configured timeouts and retries), and the batch completes — the queue
// holds nothing of the edition afterwards, and the next send retries them.

const pgOk = await needsPostgres();
const N = 30;

/** A TCP server that accepts and then does `onConn` with each socket. */
async function tcp(
  onConn: (s: Socket) => void,
): Promise<{ server: Server; url: string; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConn(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

describe.skipIf(!pgOk)('worker against a failing SMTP server', () => {
  const worlds: FanoutWorld[] = [];
  const servers: { server: Server; sockets: Set<Socket> }[] = [];
  let refusedUrl: string;
  beforeAll(async () => {
    // A port that was just free: nothing listens there.
    const t = await tcp(() => {});
    refusedUrl = t.url;
    await new Promise((r) => t.server.close(r));
  });
  afterAll(async () => {
    for (const s of servers) {
      for (const c of s.sockets) c.destroy();
      s.server.close();
    }
    for (const w of worlds) await w.drop();
  });

  const cases: [string, () => Promise<string>, RegExp][] = [
    ['refuses connections', async () => refusedUrl, /^SMTP_[A-Z_]+: /],
    [
      'never greets',
      async () => {
        const t = await tcp(() => {});
        servers.push(t);
        return t.url;
      },
      /^SMTP_[A-Z_]+: /,
    ],
    [
      'drops every connection after its greeting',
      async () => {
        const t = await tcp((s) => {
          s.write('220 flaky.test ESMTP\r\n');
          s.once('data', () => s.destroy());
        });
        servers.push(t);
        return t.url;
      },
      /^SMTP_[A-Z_]+: /,
    ],
  ];

  for (const [name, url, code] of cases)
    it(`${name}: every message deferred with a catalog code, the batch completes`, async () => {
      const w = await fanoutWorld(
        N,
        '  batchSize: 10\n  concurrency: 2\n  connections: 2\n  leaseSeconds: 10\n  pollSeconds: 0.5\n',
        '  connectionTimeoutMs: 500\n  greetingTimeoutMs: 500\n  socketTimeoutMs: 500\n  dataTimeoutMs: 1000\n',
      );
      worlds.push(w);
      const smtp = await url();
      const q = w.spawnCli(['send', '--edition', EDITION, '--transport', 'smtp', '--no-wait'], {
        SMTP_URL: smtp,
      });
      expect(await exited(q), q.output()).toBe(0);
      const worker = w.spawnCli(['worker'], { SMTP_URL: smtp });
      let c = await w.counts();
      for (let i = 0; i < 600 && c.deferred < N; i++) {
        await wait(200);
        c = await w.counts();
      }
      worker.kill('SIGTERM');
      expect(await exited(worker), worker.output()).toBe(0);
      expect(c).toMatchObject({ deferred: N, sent: 0, committed: 0, queued: 0 });
      const rows = await w.rows();
      expect(rows.filter((r) => !code.test(r.last_error ?? ''))).toEqual([]);
      // The batches completed: a send now finds no batch running and queues them again (and fails them again, exit 1).
      expect(worker.output()).toMatch(/batch daily-2025-12-10 \[\d+, \d+\) done/);
      const again = w.spawnCli(['send', '--edition', EDITION, '--transport', 'smtp', '--json'], {
        SMTP_URL: smtp,
      });
      expect(await exited(again), again.output()).toBe(1);
      expect(again.output()).toMatch(/"deferred":\s*30/);
    }, 240_000);
});
