import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink, tally } from '../fixtures/delivery/sink.ts';
import { cli, workspaceArgs } from '../helpers/cli.ts';
import { needsPostgres } from '../helpers/pg.ts';
import { EDITION, exited, type FanoutWorld, fanoutWorld, wait } from './fanout-fixture.ts';

// `broadsheet worker` (issue 17): SIGTERM gives its batch back cleanly (nothing
// in doubt, another worker finishes it), and worker.rateLimit holds over two
// workers (messages counted per one-second window at the sink).

const pgOk = await needsPostgres();

it('worker refuses a SQLite store with WORKER_NEEDS_POSTGRES (exit 2)', () => {
  const dir = tempDir('bs-worker-sqlite-');
  writeFileSync(join(dir, 'broadsheet.config.yaml'), 'worker:\n  batchSize: 10\n');
  const r = cli([...workspaceArgs(dir), 'worker', '--json'], { env: { DATABASE_URL: '' } });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('WORKER_NEEDS_POSTGRES');
});

describe.skipIf(!pgOk)('worker on PostgreSQL', () => {
  let sink: Sink;
  const worlds: FanoutWorld[] = [];
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(async () => {
    await sink?.close();
    for (const w of worlds) await w.drop();
  });

  it('SIGTERM: the messages in flight finish, the batch is given back, another worker sends the rest once', async () => {
    const N = 300;
    const w = await fanoutWorld(
      N,
      '  batchSize: 300\n  concurrency: 1\n  connections: 1\n  rateLimit: 60\n  leaseSeconds: 30\n  pollSeconds: 0.5\n',
    );
    worlds.push(w);
    sink.received.length = 0;
    const q = w.spawnCli(['send', '--edition', EDITION, '--transport', 'smtp', '--no-wait'], {
      SMTP_URL: sink.url,
    });
    expect(await exited(q), q.output()).toBe(0);
    const a = w.spawnCli(['worker'], { SMTP_URL: sink.url });
    while (sink.received.length < 40) await wait(5);
    a.kill('SIGTERM');
    expect(await exited(a), a.output()).toBe(0);
    expect(a.output()).toMatch(/given back/);
    const mid = await w.counts();
    expect(mid.committed).toBe(0);
    expect(mid.sent).toBe(sink.received.length);
    expect(mid.queued + mid.deferred).toBe(N - mid.sent);
    // Lease 30 s: a second worker can only finish this quickly because the claims were released.
    const b = w.spawnCli(['worker'], { SMTP_URL: sink.url });
    let c = mid;
    for (let i = 0; i < 600 && c.sent < N; i++) {
      await wait(200);
      c = await w.counts();
    }
    b.kill('SIGTERM');
    expect(await exited(b)).toBe(0);
    const { byRecipient } = tally(sink.received);
    expect(byRecipient.size).toBe(N);
    expect([...byRecipient.values()].every((n) => n === 1)).toBe(true);
    expect(c).toMatchObject({ sent: N, committed: 0, queued: 0, deferred: 0 });
  }, 240_000);

  it('a worker beats in process_heartbeats and answers GET /healthz', async () => {
    const w = await fanoutWorld(1, '  pollSeconds: 0.5\n');
    worlds.push(w);
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as AddressInfo).port;
    await new Promise((r) => free.close(r));
    const p = w.spawnCli(['worker', '--health-port', String(port)]);
    let res: Response | undefined;
    for (let i = 0; i < 300 && !res; i++) {
      res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (!res) await wait(100);
    }
    expect(res?.status).toBe(200);
    expect(await res!.json()).toMatchObject({ ok: true, role: 'worker' });
    p.kill('SIGTERM');
    expect(await exited(p), p.output()).toBe(0);
    const beats = await w.query('SELECT role, state FROM process_heartbeats');
    expect(beats).toEqual([{ role: 'worker', state: 'stopped' }]);
  }, 120_000);

  it('worker.rateLimit is global: two workers together stay under it in every one-second window', async () => {
    const N = 240;
    const RATE = 40;
    const w = await fanoutWorld(
      N,
      `  batchSize: 20\n  concurrency: 2\n  connections: 2\n  rateLimit: ${RATE}\n  pollSeconds: 0.5\n`,
    );
    worlds.push(w);
    sink.received.length = 0;
    const q = w.spawnCli(['send', '--edition', EDITION, '--transport', 'smtp', '--no-wait'], {
      SMTP_URL: sink.url,
    });
    expect(await exited(q), q.output()).toBe(0);
    const arrivals: number[] = [];
    let seen = 0;
    const sampler = setInterval(() => {
      const now = performance.now();
      while (seen < sink.received.length) {
        arrivals.push(now);
        seen++;
      }
    }, 10);
    const workers = [0, 1].map(() => w.spawnCli(['worker', '--json'], { SMTP_URL: sink.url }));
    let c = await w.counts();
    for (let i = 0; i < 600 && c.sent < N; i++) {
      await wait(200);
      c = await w.counts();
    }
    clearInterval(sampler);
    for (const p of workers) p.kill('SIGTERM');
    for (const p of workers) expect(await exited(p)).toBe(0);
    expect(c.sent).toBe(N);
    // Both workers took part.
    for (const p of workers) expect(p.output()).toMatch(/"sent":\s*[1-9]/);
    // The most arrivals in any one-second window (generous: the sampling adds 10 ms of jitter).
    let most = 0;
    for (let i = 0, j = 0; i < arrivals.length; i++) {
      while (arrivals[i]! - arrivals[j]! >= 1000) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(RATE * 1.25 + 2);
    console.log(`fanout rate: ${RATE}/s configured, at most ${most} in any second over two workers`);
  }, 240_000);
});
