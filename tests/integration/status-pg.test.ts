// `broadsheet status` and `broadsheet run` on PostgreSQL (issue 17): every
// host's daemons, workers and serve processes with their heartbeat age by the
// database's clock (stale ones flagged), sends per edition with `committed`
// counted as in doubt, the job's runs; `run` under the same lease and record.
// And on SQLite, status still loads no pg.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { run } from '../helpers/daemon.ts';
import { MODULE_TRACER } from '../helpers/module-trace.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';

const FEED = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://news.example.com/</link><description>d</description></channel></rss>`;
const pgOk = await needsPostgres();
const env = { BROADSHEET_SECRET: 'status-pg-test-secret', LOG_FORMAT: 'json' };

let db: PgTestDb;
let pool: pg.Pool;
let server: Server;
let hits = 0;
let dir: string;
let g: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bs-statuspg-'));
  server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(FEED);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(
    join(dir, 'broadsheet.config.yaml'),
    `jobs:
  - name: hourly
    kind: ingest
    cron: "0 * * * *"
    timezone: UTC
    catchUp: 2h
    options:
      feeds: ["http://127.0.0.1:${port}/feed.xml"]
ops:
  staleBeats: 3
`,
  );
  if (!pgOk) return;
  db = await freshPgDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  g = [
    '--config',
    join(dir, 'broadsheet.config.yaml'),
    '--content',
    join(dir, 'content'),
    '--out',
    join(dir, 'out'),
    '--store',
    db.url,
  ];
}, 60_000);
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  if (!pgOk) return;
  await pool.end();
  await db.drop();
});

const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

describe.skipIf(!pgOk)('status and run on PostgreSQL', () => {
  // The feed server lives in this process: commands run async (spawnSync would block it).
  it('run: the latest occurrence once (lease + record); again: already done', async () => {
    expect((await run([...g, 'migrate'], { env })).code).toBe(0);
    const r = await run([...g, 'run', 'hourly', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'ran', run: { outcome: 'ok', attempts: 1 } });
    const again = await run([...g, 'run', 'hourly', '--json'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'already-done' });
    expect(hits).toBe(1);
  });

  it('status --json: every host’s processes (stale flagged by the database clock), sends with in-doubt, runs', async () => {
    // Three hosts: a live daemon and worker, a stale worker (killed: state still running), a stopped serve.
    const plant = (instance: string, role: string, host: string, pid: number, ageMs: number, state: string) =>
      pool.query(
        `INSERT INTO process_heartbeats (instance, role, host, pid, started_ms, beat_ms, interval_ms, state, detail)
         VALUES ($1, $2, $3, $4, ${NOW_MS} - 3600000, ${NOW_MS} - $5, 10000, $6, '{"batches":2}')`,
        [instance, role, host, pid, ageMs, state],
      );
    await plant('a:1', 'daemon', 'host-a', 101, 1_000, 'running');
    await plant('b:1', 'worker', 'host-b', 201, 2_000, 'running');
    await plant('c:1', 'worker', 'host-c', 301, 120_000, 'running');
    await plant('c:2', 'serve', 'host-c', 302, 120_000, 'stopped');
    const ts = '2025-12-10T10:00:00.000Z';
    for (let i = 1; i <= 3; i++) {
      await pool.query(
        'INSERT INTO subscribers (id, email, created_at, updated_at) VALUES ($1, $2, $3, $3)',
        [i, `r${i}@x.test`, ts],
      );
      await pool.query(
        'INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)',
        ['daily-2025-12-10', i, `r${i}@x.test`, i === 3 ? 'committed' : 'sent', `<m${i}@x>`, ts],
      );
    }
    const r = cli([...g, 'status', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.store).toMatchObject({ kind: 'postgres', exists: true });
    expect(s.store.path).toContain(db.name);
    const by = Object.fromEntries(s.processes.map((p: { instance: string }) => [p.instance, p]));
    expect(by['a:1']).toMatchObject({ role: 'daemon', host: 'host-a', pid: 101, alive: true, stale: false });
    expect(by['b:1']).toMatchObject({
      role: 'worker',
      host: 'host-b',
      alive: true,
      stale: false,
      detail: { batches: 2 },
    });
    expect(by['c:1']).toMatchObject({
      role: 'worker',
      host: 'host-c',
      state: 'running',
      alive: false,
      stale: true,
    });
    expect(by['c:1'].ageMs).toBeGreaterThanOrEqual(120_000);
    expect(by['c:2']).toMatchObject({ role: 'serve', state: 'stopped', alive: false, stale: false });
    expect(s.hosts).toEqual([
      { host: 'host-a', alive: 1, stale: 0, stopped: 0, roles: ['daemon'] },
      { host: 'host-b', alive: 1, stale: 0, stopped: 0, roles: ['worker'] },
      { host: 'host-c', alive: 0, stale: 1, stopped: 1, roles: [] },
    ]);
    expect(s.scheduler).toMatchObject({ alive: true, stale: false });
    expect(s.sends).toEqual([
      { edition: 'daily-2025-12-10', total: 3, byState: { sent: 2, committed: 1 }, inDoubt: 1 },
    ]);
    expect(s.jobs[0]).toMatchObject({ name: 'hourly', last: { outcome: 'ok', trigger: 'run' } });

    const human = cli([...g, 'status'], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/host-c worker pid 301 +STALE/);
    expect(human.stdout).toMatch(/host-b worker pid 201 +running, last beat/);
    expect(human.stdout).toMatch(/1 committed = in doubt/);
  });

  it('an unreachable PostgreSQL: STORE_PG_UNREACHABLE, exit 1, in bounded time', () => {
    const r = cli([...g.slice(0, -1), 'postgres://postgres@127.0.0.1:1/none', 'status'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STORE_PG_UNREACHABLE');
  });
});

describe('status on SQLite', () => {
  it('loads no pg, and lists the processes of process_heartbeats', () => {
    const store = join(dir, 'bs.db');
    const sg = ['--config', join(dir, 'broadsheet.config.yaml'), '--store', store];
    expect(cli([...sg, 'migrate']).code).toBe(0);
    const tracer = join(dir, 'tracer.mjs');
    writeFileSync(tracer, MODULE_TRACER);
    const trace = join(dir, 'trace.txt');
    writeFileSync(trace, '');
    const r = cli([...sg, 'status', '--json'], {
      env: { TRACE_FILE: trace, NODE_OPTIONS: `--import ${tracer}` },
    });
    expect(r.code, r.stderr).toBe(0);
    const loaded = readFileSync(trace, 'utf8');
    expect(loaded).toContain('commander');
    expect(loaded).not.toContain('/node_modules/pg/');
    expect(loaded).not.toContain('status-pg');
    expect(JSON.parse(r.stdout)).toMatchObject({
      store: { kind: 'sqlite', exists: true },
      processes: [],
      hosts: [],
    });
  });
});
