// The daemon's policy, driven by an injected clock: the Scheduler's ticks are
// called by hand (start({ tick: false })), the store is a real SQLite file,
// and the job is a stand-in that records when it ran.
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { type Context, resolvePaths } from '../../src/context.ts';
import type { JobResult } from '../../src/jobs/run.ts';
import { type Job, jobSchema } from '../../src/scheduler/config.ts';
import { Scheduler } from '../../src/scheduler/daemon.ts';
import { runOne } from '../../src/scheduler/one-shot.ts';
import { openStore } from '../../src/store/db.ts';
import { getRun, recentRuns } from '../../src/store/jobs.ts';
import { deadPid } from '../helpers/dead-pid.ts';

const job = (j: Record<string, unknown>): Job => jobSchema.parse({ kind: 'build', ...j });

function setup(startIso: string) {
  const dir = mkdtempSync(join(tmpdir(), 'bs-sched-'));
  const store = join(dir, 'db');
  const db = openStore(store);
  let now = Date.parse(startIso);
  const logs: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => logs.push(JSON.parse(s)) });
  const { config } = loadConfig(join(dir, 'none.yaml'), { env: {} });
  const ctx: Context = {
    config,
    secrets: {} as Context['secrets'],
    logger,
    clock: { now: () => new Date(now) },
    paths: resolvePaths(config, { store }, dir),
  };
  const ran: string[] = [];
  let gate: Promise<void> | undefined;
  const runJob = async (c: Context, j: Job): Promise<JobResult> => {
    ran.push(`${j.name}@${c.clock.now().toISOString()}`);
    await gate;
    return { job: j.name, kind: j.kind, ok: true, counts: { things: 1 }, summary: 'did it' };
  };
  const env = { ctx, db, runJob, leaseTtlMs: 60_000 };
  const schedulers: Scheduler[] = [];
  return {
    db,
    env,
    ran,
    logs,
    at: (iso: string) => {
      now = Date.parse(iso);
    },
    advance: (ms: number) => {
      now += ms;
    },
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => {
        release = r;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
    scheduler: (jobs: Job[], keepSkipped?: number) => {
      const s = new Scheduler(env, jobs, { keepSkipped });
      s.start({ tick: false });
      schedulers.push(s);
      return s;
    },
    async close() {
      for (const s of schedulers) await s.stop();
      db.close();
    },
  };
}

let current: ReturnType<typeof setup> | undefined;
const make = (iso: string) => {
  current = setup(iso);
  return current;
};
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const daily = job({ name: 'daily', cron: '0 7 * * *', timezone: 'Asia/Hong_Kong' });

describe('on time', () => {
  it('a first start catches nothing up, then runs 07:00 once', async () => {
    const t = make('2025-12-10T06:59:58+08:00');
    const s = t.scheduler([daily]);
    await s.tickAll(); // first tick: catch-up, nothing recorded yet
    for (let i = 0; i < 5; i++) {
      t.advance(1000);
      await s.tickAll();
    }
    expect(t.ran).toEqual(['daily@2025-12-09T23:00:00.000Z']);
    const [row] = recentRuns(t.db, 'daily', 5);
    expect(row).toMatchObject({
      occurrence: '2025-12-09T23:00:00.000Z',
      trigger: 'schedule',
      outcome: 'ok',
      attempts: 1,
      counts: { things: 1 },
    });
  });

  it('catchUp 0 still runs on time', async () => {
    const t = make('2025-12-10T06:59:59+08:00');
    const s = t.scheduler([
      job({ name: 'strict', cron: '0 7 * * *', timezone: 'Asia/Hong_Kong', catchUp: 0 }),
    ]);
    await s.tickAll();
    t.advance(1500);
    await s.tickAll();
    expect(t.ran).toHaveLength(1);
  });
});

describe('missed runs after downtime', () => {
  async function ranYesterday(t: ReturnType<typeof setup>) {
    t.at('2025-12-09T07:00:00+08:00');
    await runOne(t.env, daily);
    t.ran.length = 0;
  }

  it('an occurrence missed within catchUp runs once on start', async () => {
    const t = make('2025-12-09T07:00:00+08:00');
    await ranYesterday(t);
    t.at('2025-12-10T08:30:00+08:00'); // down from before 07:00 to 08:30
    const s = t.scheduler([daily]);
    await s.tickAll();
    await s.tickAll();
    expect(t.ran).toEqual(['daily@2025-12-10T00:30:00.000Z']);
    expect(getRun(t.db, 'daily', '2025-12-09T23:00:00.000Z')).toMatchObject({
      trigger: 'catch-up',
      outcome: 'ok',
    });
    // a second daemon started later finds it done
    const s2 = t.scheduler([daily]);
    t.advance(60_000);
    await s2.tickAll();
    expect(t.ran).toHaveLength(1);
  });

  it('older than catchUp: skipped with a warning and recorded, never run', async () => {
    const t = make('2025-12-09T07:00:00+08:00');
    await ranYesterday(t);
    t.at('2025-12-10T09:00:01+08:00');
    const s = t.scheduler([daily]);
    await s.tickAll();
    expect(t.ran).toEqual([]);
    expect(getRun(t.db, 'daily', '2025-12-09T23:00:00.000Z')).toMatchObject({
      outcome: 'skipped',
      trigger: 'catch-up',
      error: expect.stringMatching(/missed by 2h1s, more than the catch-up window of 2h/),
    });
    expect(t.logs.some((l) => l.level === 40 && /skipping 1 missed occurrence/.test(l.msg))).toBe(true);
  });

  it('after a long outage only the latest runs; the rest are skipped, the most recent N recorded', async () => {
    const t = make('2025-12-10T10:00:00+08:00');
    const every10 = job({ name: 'often', cron: '*/10 * * * *', timezone: 'Asia/Hong_Kong' });
    await runOne(t.env, every10); // ran 10:00
    t.at('2025-12-10T14:05:00+08:00'); // 24 missed: 10:10 … 14:00
    const s = t.scheduler([every10], 5);
    await s.tickAll();
    expect(t.ran).toEqual(['often@2025-12-10T02:00:00.000Z', 'often@2025-12-10T06:05:00.000Z']);
    const rows = recentRuns(t.db, 'often', 100);
    expect(rows[0]).toMatchObject({
      occurrence: '2025-12-10T06:00:00.000Z',
      outcome: 'ok',
      trigger: 'catch-up',
    });
    const skipped = rows.filter((r) => r.outcome === 'skipped');
    expect(skipped.map((r) => r.occurrence)).toEqual([
      '2025-12-10T05:50:00.000Z',
      '2025-12-10T05:40:00.000Z',
      '2025-12-10T05:30:00.000Z',
      '2025-12-10T05:20:00.000Z',
      '2025-12-10T05:10:00.000Z',
    ]);
    expect(skipped[0]!.error).toMatch(/superseded by the later occurrence 2025-12-10T14:00:00\+08:00/);
    const warn = t.logs.find((l) => /skipping 23 missed/.test(l.msg));
    expect(warn).toBeDefined();
  });

  it('a run left `running` by a dead process runs again within catchUp; older ones become failed', async () => {
    const dead = await deadPid();
    const t = make('2025-12-10T07:20:00+08:00');
    const other = job({ name: 'other', cron: '0 5 * * *', timezone: 'Asia/Hong_Kong' });
    const insert = t.db.prepare(
      `INSERT INTO job_runs (job, kind, occurrence, trigger, outcome, attempts, pid, host, started_at, created_at)
       VALUES (?, 'build', ?, 'schedule', 'running', 1, ?, ?, ?, ?)`,
    );
    insert.run(
      'daily',
      '2025-12-09T23:00:00.000Z',
      dead,
      hostname(),
      '2025-12-09T23:00:00Z',
      '2025-12-09T23:00:00Z',
    );
    insert.run(
      'other',
      '2025-12-09T21:00:00.000Z',
      dead,
      hostname(),
      '2025-12-09T21:00:00Z',
      '2025-12-09T21:00:00Z',
    );
    // their leases: held by a pid on this host that has exited
    const lease = t.db.prepare(
      'INSERT INTO leases (name, holder, pid, host, expires_at) VALUES (?, ?, ?, ?, ?)',
    );
    lease.run('job:daily@2025-12-09T23:00:00.000Z', 'x', dead, hostname(), Date.now() + 3_600_000);
    lease.run('job:other@2025-12-09T21:00:00.000Z', 'y', dead, hostname(), Date.now() + 3_600_000);
    const s = t.scheduler([daily, other]);
    await s.tickAll();
    expect(t.ran).toEqual(['daily@2025-12-09T23:20:00.000Z']);
    expect(getRun(t.db, 'daily', '2025-12-09T23:00:00.000Z')).toMatchObject({ outcome: 'ok', attempts: 2 });
    expect(getRun(t.db, 'other', '2025-12-09T21:00:00.000Z')).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(new RegExp(`interrupted: pid ${dead} `)),
    });
  });
});

describe('leases', () => {
  it('two schedulers on one store run each occurrence once', async () => {
    const t = make('2025-12-10T10:00:00.500+08:00');
    const everySecond = job({ name: 'tick', cron: '* * * * * *', timezone: 'UTC' });
    const a = t.scheduler([everySecond]);
    const b = t.scheduler([everySecond]);
    await Promise.all([a.tickAll(), b.tickAll()]);
    for (let i = 0; i < 20; i++) {
      t.advance(1000);
      await Promise.all([a.tickAll(), b.tickAll()]);
    }
    expect(t.ran).toHaveLength(20);
    expect(new Set(t.ran).size).toBe(20);
    const rows = recentRuns(t.db, 'tick', 100);
    expect(rows.every((r) => r.outcome === 'ok' && r.attempts === 1)).toBe(true);
    expect(rows).toHaveLength(20);
  });

  it('`run` while a scheduler holds the occurrence: already running; afterwards: already done', async () => {
    const t = make('2025-12-10T06:59:59+08:00');
    const s = t.scheduler([daily]);
    await s.tickAll();
    const release = t.hold();
    t.at('2025-12-10T07:00:00.200+08:00');
    const running = s.tickAll();
    await new Promise((r) => setImmediate(r));
    expect(t.ran).toHaveLength(1);
    const r = await runOne(t.env, daily);
    expect(r).toMatchObject({ code: 0, json: { status: 'already-running' } });
    release();
    await running;
    expect(await runOne(t.env, daily)).toMatchObject({ code: 0, json: { status: 'already-done' } });
    expect(t.ran).toHaveLength(1);
    // --force is a manual run
    expect(await runOne(t.env, daily, { force: true })).toMatchObject({ code: 0, json: { status: 'ran' } });
    expect(t.ran).toHaveLength(2);
  });

  it('a lease held on another host (a killed daemon there) blocks until its ttl runs out', async () => {
    const t = make('2025-12-10T07:00:30+08:00');
    t.db
      .prepare('INSERT INTO leases (name, holder, pid, host, expires_at) VALUES (?, ?, 1, ?, ?)')
      .run('job:daily@2025-12-09T23:00:00.000Z', 'z', 'elsewhere', Date.parse('2025-12-10T07:01:00+08:00'));
    expect(await runOne(t.env, daily)).toMatchObject({ code: 0, json: { status: 'already-running' } });
    t.at('2025-12-10T07:01:00.001+08:00');
    expect(await runOne(t.env, daily)).toMatchObject({ code: 0, json: { status: 'ran' } });
    expect(t.ran).toHaveLength(1);
  });

  it('`run` of an occurrence older than catchUp records it skipped instead of sending late', async () => {
    const t = make('2025-12-10T15:00:00+08:00');
    const r = await runOne(t.env, daily);
    expect(r).toMatchObject({ code: 0, json: { status: 'skipped', occurrence: '2025-12-09T23:00:00.000Z' } });
    expect(t.ran).toEqual([]);
  });

  it('graceful stop waits for the running job, then releases its lease', async () => {
    const t = make('2025-12-10T06:59:59+08:00');
    const s = t.scheduler([daily]);
    await s.tickAll();
    const release = t.hold();
    t.at('2025-12-10T07:00:00.200+08:00');
    void s.tickAll();
    await new Promise((r) => setImmediate(r));
    const stopped = s.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect(t.db.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 1 });
    release();
    expect(await stopped).toEqual({ forced: false });
    expect(t.db.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 0 });
    expect(getRun(t.db, 'daily', '2025-12-09T23:00:00.000Z')).toMatchObject({ outcome: 'ok' });
  });
});

describe('DST, minute by minute through the transition days', () => {
  for (const tz of ['America/New_York', 'Europe/London'])
    it(`a daily 02:30 ${tz} job runs once a day across both transitions`, async () => {
      const days =
        tz === 'America/New_York'
          ? ['2025-03-08T12:00:00Z', '2025-11-01T12:00:00Z']
          : ['2025-03-29T12:00:00Z', '2025-10-25T12:00:00Z'];
      for (const start of days) {
        const t = make(start);
        const j = job({ name: 'late', cron: '30 2 * * *', timezone: tz });
        const s = t.scheduler([j]);
        await s.tickAll();
        for (let m = 0; m < 48 * 60; m++) {
          t.advance(60_000);
          await s.tickAll();
        }
        // two days: the transition day and the one after, once each
        expect(t.ran).toHaveLength(2);
        await t.close();
        current = undefined;
      }
    });
});
