// Heartbeats and the health endpoint (issue 17, src/ops/): the same tests on
// SQLite and PostgreSQL; on PostgreSQL the beat is the database's time.
import { request } from 'node:http';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { processCheck, startHealthServer } from '../../src/ops/health.ts';
import { startHeartbeat } from '../../src/ops/heartbeat.ts';
import { heartbeatsFor } from '../../src/ops/heartbeat-store.ts';
import { describeStores } from '../helpers/stores.ts';

function get(port: number, path = '/healthz'): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describeStores('heartbeats', (s) => {
  it('one row per process: role, host, pid, state running → stopping → stopped, detail JSON', async () => {
    const b = await s.open();
    let n = 0;
    const hb = await startHeartbeat(b, {
      role: 'worker',
      intervalMs: 60_000,
      detail: () => ({ batches: ++n }),
    });
    const store = await heartbeatsFor(b);
    const [row] = await store.list();
    expect(row).toMatchObject({
      instance: hb.instance,
      role: 'worker',
      host: hostname(),
      pid: process.pid,
      state: 'running',
      intervalMs: 60_000,
      detail: { batches: 1 },
    });
    expect(row!.ageMs).toBeLessThan(60_000);
    expect(await hb.beat('stopping')).toBe(true);
    expect((await store.list({ role: 'worker' }))[0]).toMatchObject({
      state: 'stopping',
      detail: { batches: 2 },
    });
    await hb.stop();
    await hb.stop();
    expect((await store.list())[0]!.state).toBe('stopped');
    expect(await store.list({ role: 'daemon' })).toEqual([]);
  });

  it('a row deleted under a running process is written again at its next beat', async () => {
    const b = await s.open();
    const hb = await startHeartbeat(b, { role: 'serve', intervalMs: 60_000 });
    const store = await heartbeatsFor(b);
    if (b.kind === 'sqlite') b.db.prepare('DELETE FROM process_heartbeats').run();
    else await b.pool.query('DELETE FROM process_heartbeats');
    expect(await store.list()).toEqual([]);
    await hb.beat();
    expect((await store.list()).map((r) => r.role)).toEqual(['serve']);
    await hb.stop();
  });

  it('rows silent for more than a week are pruned when a process starts', async () => {
    const b = await s.open();
    const old = Date.now() - 8 * 86_400_000;
    const ins = `INSERT INTO process_heartbeats (instance, role, host, pid, started_ms, beat_ms, interval_ms, state)
                 VALUES ('gone', 'daemon', 'h', 1, ${old}, ${old}, 1000, 'running')`;
    if (b.kind === 'sqlite') b.db.exec(ins);
    else await b.pool.query(ins);
    const hb = await startHeartbeat(b, { role: 'daemon', intervalMs: 60_000 });
    expect((await (await heartbeatsFor(b)).list()).map((r) => r.instance)).toEqual([hb.instance]);
    await hb.stop();
  });

  it('GET /healthz: 200 while the store answers and beats land; 503 naming the reason when they stop', async () => {
    const b = await s.open();
    const hb = await startHeartbeat(b, { role: 'daemon', intervalMs: 60_000 });
    const store = await heartbeatsFor(b);
    let storeDown = false;
    const check = processCheck({
      store: {
        ...store,
        ping: () => (storeDown ? new Promise<void>(() => {}) : store.ping()),
      },
      heartbeat: hb,
      intervalMs: 60_000,
      staleBeats: 3,
      storeTimeoutMs: 300,
      extra: () => ({ jobs: ['main'] }),
    });
    const srv = await startHealthServer({ host: '127.0.0.1', port: 0, check });
    try {
      const ok = await get(srv.port);
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ ok: true, role: 'daemon', instance: hb.instance, jobs: ['main'] });
      expect((await get(srv.port, '/other')).status).toBe(404);
      storeDown = true;
      const down = await get(srv.port);
      expect(down.status).toBe(503);
      expect(down.body.reason).toMatch(/store did not answer within 300 ms/);
      storeDown = false;
      const stale = processCheck({
        store,
        heartbeat: hb,
        intervalMs: 1,
        staleBeats: 1,
        storeTimeoutMs: 1000,
      });
      const r = await stale();
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(/heartbeat is stale/);
    } finally {
      await srv.close();
      await hb.stop();
    }
  });
});

describe('health server', () => {
  it('a check that never settles answers 503 after the bound; a taken port is OPS_HEALTH_LISTEN', async () => {
    const srv = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      check: () => new Promise(() => {}),
      timeoutMs: 200,
    });
    try {
      const r = await get(srv.port);
      expect(r.status).toBe(503);
      expect(r.body.reason).toMatch(/timed out after 200 ms/);
      await expect(
        startHealthServer({ host: '127.0.0.1', port: srv.port, check: async () => ({ ok: true }) }),
      ).rejects.toMatchObject({ code: 'OPS_HEALTH_LISTEN' });
    } finally {
      await srv.close();
    }
  });
});
