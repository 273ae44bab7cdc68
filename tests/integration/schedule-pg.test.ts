// Several daemons, one schedule, on PostgreSQL (issue 17): two real
// `broadsheet schedule` processes against one database run a per-2-second
// `ingest` job whose feed is served by node:http on 127.0.0.1. One daemon is
// SIGKILLed while its run hangs on the feed: every occurrence has one
// job_runs row and ran once (feed requests = attempts), the survivor keeps the
// schedule, `status` records the killed run failed and flags its daemon stale.
// In-process: a job whose stage is not on PostgreSQL yet fails that run with
// its catalog code and the daemon goes on. Every wait is for an event.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { type Context, resolvePaths } from '../../src/context.ts';
import { BroadsheetError } from '../../src/errors/index.ts';
import type { JobResult } from '../../src/jobs/run.ts';
import { type Job, jobSchema } from '../../src/scheduler/config.ts';
import { Scheduler } from '../../src/scheduler/daemon.ts';
import { closeBackend, openBackend } from '../../src/store/backend.ts';
import { pause, run, start } from '../helpers/daemon.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';
import { STORE_CONFIG } from '../helpers/stores.ts';

const FEED = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://news.example.com/</link><description>d</description></channel></rss>`;
const pgOk = await needsPostgres();

let db: PgTestDb;
let pool: pg.Pool;
let server: Server;
let port: number;
let hits = 0;
/** The feed request with this number is held for good (the run hangs). */
let holdAt = 0;
let heldArrived: () => void = () => {};
const held: ServerResponse[] = [];

beforeAll(async () => {
  if (!pgOk) return;
  db = await freshPgDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => {}); // an idle client cut by the server: the next query reconnects
  server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    hits++;
    if (hits === holdAt) {
      held.push(res);
      heldArrived();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(FEED);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  if (!pgOk) return;
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await pool.end();
  await db.drop();
});

interface RunRow {
  occurrence: string;
  outcome: string;
  attempts: number;
  pid: number | null;
  error: string | null;
}
const rows = async () =>
  (
    await pool.query<RunRow>(
      "SELECT occurrence, outcome, attempts::int AS attempts, pid::int AS pid, error FROM job_runs WHERE job = 'tick' ORDER BY occurrence",
    )
  ).rows;
async function untilRows(pred: (r: RunRow[]) => boolean): Promise<RunRow[]> {
  for (;;) {
    const r = await rows().catch(() => [] as RunRow[]);
    if (pred(r)) return r;
    await pause(200);
  }
}

function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      let t = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        t += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(t) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!pgOk)('schedule on PostgreSQL', () => {
  it('two daemons, one SIGKILLed mid-run: each occurrence one row, run once; the survivor keeps the schedule', {
    timeout: 240_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bs-schedpg-'));
    const cfg = join(dir, 'broadsheet.config.yaml');
    writeFileSync(
      cfg,
      `jobs:
  - name: tick
    kind: ingest
    cron: "*/2 * * * * *"
    timezone: UTC
    timeout: 1h
    options:
      feeds: ["http://127.0.0.1:${port}/feed.xml"]
`,
    );
    const g = [
      '--config',
      cfg,
      '--content',
      join(dir, 'content'),
      '--out',
      join(dir, 'out'),
      '--store',
      db.url,
    ];
    const env = { BROADSHEET_SECRET: 'schedule-pg-test-secret' };
    holdAt = 4;
    const arrived = new Promise<void>((r) => {
      heldArrived = r;
    });
    // Both start at once: the schema is migrated once, under the advisory lock.
    const daemons = [0, 1].map(() =>
      start([...g, 'schedule', '--heartbeat', '1', '--lease-ttl', '3', '--health-port', '0'], { env }),
    );
    const ports = await Promise.all(
      daemons.map(async (d) => Number(/:(\d+)\/healthz$/.exec((await d.waitLine(/^health: GET /)).msg!)![1])),
    );
    const ok = await healthz(ports[0]!);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, role: 'daemon', pid: daemons[0]!.child.pid });

    await arrived;
    const hung = (await untilRows((r) => r.some((x) => x.outcome === 'running'))).find(
      (x) => x.outcome === 'running',
    )!;
    const victim = daemons.find((d) => d.child.pid === hung.pid)!;
    const survivor = daemons.find((d) => d !== victim)!;
    expect(victim).toBeDefined();
    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();

    // The survivor runs the next occurrences (the dead run's pid is gone on this host: not "still running").
    const after = (r: RunRow[]) => r.filter((x) => Date.parse(x.occurrence) > killedAt && x.outcome === 'ok');
    await untilRows((r) => after(r).length >= 3);

    // status: records the dead run failed (interrupted) and, once its beats are 3 intervals old, flags it stale.
    let st = JSON.parse((await run([...g, 'status', '--json'], { env })).stdout);
    const reaped = [...st.reaped];
    while (
      !st.processes.some((p: { pid: number; stale: boolean }) => p.pid === victim.child.pid && p.stale)
    ) {
      await pause(300);
      st = JSON.parse((await run([...g, 'status', '--json'], { env })).stdout);
      reaped.push(...st.reaped);
    }
    expect(st.store.kind).toBe('postgres');
    expect(reaped).toEqual([
      expect.objectContaining({ job: 'tick', occurrence: hung.occurrence, pid: hung.pid }),
    ]);
    const procs = st.processes.filter((p: { role: string }) => p.role === 'daemon');
    expect(procs.find((p: { pid: number }) => p.pid === survivor.child.pid)).toMatchObject({
      alive: true,
      stale: false,
      state: 'running',
    });
    expect(st.scheduler.alive).toBe(true);
    expect(st.jobs[0].runs.length).toBeGreaterThan(0);

    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
    for (const res of held.splice(0)) res.destroy();

    const all = await rows();
    // One row per occurrence (UNIQUE), each attempt fetched the feed once: nothing ran twice.
    expect(new Set(all.map((r) => r.occurrence)).size).toBe(all.length);
    const attempts = all.filter((r) => r.outcome !== 'skipped').reduce((n, r) => n + r.attempts, 0);
    expect(attempts).toBe(hits);
    expect(all.filter((r) => r.outcome !== 'skipped').every((r) => r.attempts === 1)).toBe(true);
    const dead = all.find((r) => r.occurrence === hung.occurrence)!;
    expect(dead.outcome).toBe('failed');
    expect(dead.error).toMatch(new RegExp(`^interrupted: pid ${hung.pid} on .* is gone`));
    // After the kill, every occurrence was run by the survivor, none missed.
    const later = all.filter((r) => Date.parse(r.occurrence) > killedAt);
    expect(later.every((r) => r.pid === survivor.child.pid && r.outcome === 'ok')).toBe(true);
    for (let i = 1; i < later.length; i++)
      expect(Date.parse(later[i]!.occurrence) - Date.parse(later[i - 1]!.occurrence)).toBe(2000);
    const stopped = await pool.query(
      "SELECT state FROM process_heartbeats WHERE role = 'daemon' AND pid = $1",
      [survivor.child.pid],
    );
    expect(stopped.rows).toEqual([{ state: 'stopped' }]);
  });

  it('catch-up after downtime: two daemons starting together run the missed occurrence once', async () => {
    const backend = await openBackend({ kind: 'postgres', url: db.url }, STORE_CONFIG);
    const now = Date.parse('2031-03-03T10:30:00.000Z');
    const { config } = loadConfig(join(tmpdir(), 'none.yaml'), { env: {} });
    const ctx: Context = {
      config,
      secrets: {} as Context['secrets'],
      logger: pino({ level: 'silent' }),
      clock: { now: () => new Date(now) },
      paths: resolvePaths(config, { store: db.url }, tmpdir()),
    };
    const ran: string[] = [];
    const runJob = async (c: Context, j: Job): Promise<JobResult> => {
      ran.push(`${j.name}@${c.clock.now().toISOString()}`);
      await pause(100); // both daemons are inside their catch-up at once
      return { job: j.name, kind: j.kind, ok: true, summary: 'caught up' };
    };
    const hourly = jobSchema.parse({
      name: 'hourly',
      kind: 'build',
      cron: '0 * * * *',
      timezone: 'UTC',
      catchUp: '2h',
    });
    // The last run before the downtime: 08:00.
    await pool.query(
      `INSERT INTO job_runs (job, kind, occurrence, trigger, outcome, attempts, created_at)
       VALUES ('hourly', 'build', '2031-03-03T08:00:00.000Z', 'schedule', 'ok', 1, '2031-03-03T08:00:00.000Z')`,
    );
    const daemons = [0, 1].map(() => new Scheduler({ ctx, backend, runJob, leaseTtlMs: 60_000 }, [hourly]));
    try {
      await Promise.all(daemons.map((d) => d.start({ tick: false })));
      await Promise.all(daemons.map((d) => d.tickAll()));
      expect(ran).toHaveLength(1);
      const r = await pool.query<{ occurrence: string; outcome: string; trigger: string }>(
        "SELECT occurrence, outcome, trigger FROM job_runs WHERE job = 'hourly' ORDER BY occurrence",
      );
      expect(r.rows).toEqual([
        { occurrence: '2031-03-03T08:00:00.000Z', outcome: 'ok', trigger: 'schedule' },
        { occurrence: '2031-03-03T09:00:00.000Z', outcome: 'skipped', trigger: 'catch-up' },
        { occurrence: '2031-03-03T10:00:00.000Z', outcome: 'ok', trigger: 'catch-up' },
      ]);
    } finally {
      for (const d of daemons) await d.stop();
      await closeBackend(backend);
    }
  });

  it('a job whose stage is not on PostgreSQL yet fails that run with its catalog code; the daemon goes on', async () => {
    const backend = await openBackend({ kind: 'postgres', url: db.url }, STORE_CONFIG);
    let now = Date.parse('2030-01-01T10:00:00.500Z');
    const { config } = loadConfig(join(tmpdir(), 'none.yaml'), { env: {} });
    const ctx: Context = {
      config,
      secrets: {} as Context['secrets'],
      logger: pino({ level: 'silent' }),
      clock: { now: () => new Date(now) },
      paths: resolvePaths(config, { store: db.url }, tmpdir()),
    };
    const runJob = async (_c: Context, j: Job): Promise<JobResult> => {
      if (j.name === 'legacy')
        throw new BroadsheetError('STORE_PG_UNSUPPORTED', { store: db.url, command: 'a legacy stage' });
      return { job: j.name, kind: j.kind, ok: true, summary: 'fine' };
    };
    const jobs = ['legacy', 'fine'].map((name) =>
      jobSchema.parse({ name, kind: 'build', cron: '* * * * * *', timezone: 'UTC' }),
    );
    const s = new Scheduler({ ctx, backend, runJob, leaseTtlMs: 60_000 }, jobs);
    try {
      await s.start({ tick: false });
      await s.tickAll(); // first start: nothing to catch up
      for (let i = 0; i < 2; i++) {
        now += 1000;
        await s.tickAll();
      }
      const r = await pool.query<{ job: string; outcome: string; error: string | null }>(
        "SELECT job, outcome, error FROM job_runs WHERE job IN ('legacy', 'fine') ORDER BY job, occurrence",
      );
      expect(r.rows.filter((x) => x.job === 'fine').map((x) => x.outcome)).toEqual(['ok', 'ok']);
      const legacy = r.rows.filter((x) => x.job === 'legacy');
      expect(legacy.map((x) => x.outcome)).toEqual(['failed', 'failed']);
      expect(legacy[0]!.error).toMatch(/^STORE_PG_UNSUPPORTED: /);
    } finally {
      await s.stop();
      await closeBackend(backend);
    }
  });
});
