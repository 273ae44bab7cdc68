// Time limits, overlap skips, dead-run reaping and stop grace inside one
// process: the Scheduler's ticks called by hand with an injected clock, a
// real SQLite store, and stand-in jobs that hang (never settle), honour their
// AbortSignal, or wait for a gate. Limits are configured short (300 ms) so a
// fault ends quickly; no assertion is about speed.
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { type Context, resolvePaths } from '../../src/context.ts';
import type { JobResult } from '../../src/jobs/run.ts';
import { type Job, jobSchema, jobTimeout } from '../../src/scheduler/config.ts';
import { Scheduler } from '../../src/scheduler/daemon.ts';
import { type JobRunOptions, reapDeadRuns } from '../../src/scheduler/execute.ts';
import { runOne } from '../../src/scheduler/one-shot.ts';
import { openStore } from '../../src/store/db.ts';
import { getRun, recentRuns } from '../../src/store/jobs.ts';
import { deadPid } from '../helpers/dead-pid.ts';

type Behaviour = 'ok' | 'hang' | 'abortable' | 'gate';

function setup(startIso: string) {
  const dir = mkdtempSync(join(tmpdir(), 'bs-limits-'));
  const db = openStore(join(dir, 'db'));
  let now = Date.parse(startIso);
  const logs: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => logs.push(JSON.parse(s)) });
  const { config } = loadConfig(join(dir, 'none.yaml'), { env: {} });
  const ctx: Context = {
    config,
    secrets: {} as Context['secrets'],
    logger,
    clock: { now: () => new Date(now) },
    paths: resolvePaths(config, { store: join(dir, 'db') }, dir),
  };
  const ran: string[] = [];
  const behaviour: Behaviour[] = [];
  let open: () => void = () => {};
  const runJob = (c: Context, j: Job, o?: JobRunOptions): Promise<JobResult> => {
    ran.push(`${j.name}@${c.clock.now().toISOString()}`);
    const ok: JobResult = { job: j.name, kind: j.kind, ok: true, summary: 'did it' };
    const b = behaviour.shift() ?? 'ok';
    if (b === 'hang') return new Promise(() => {});
    if (b === 'abortable')
      return new Promise((_, reject) => o!.signal.addEventListener('abort', () => reject(o!.signal.reason)));
    if (b === 'gate')
      return new Promise((resolve) => {
        open = () => resolve(ok);
      });
    return Promise.resolve(ok);
  };
  const env = { ctx, db, runJob, leaseTtlMs: 60_000 };
  const schedulers: Scheduler[] = [];
  return {
    db,
    env,
    ran,
    logs,
    behaviour,
    release: () => open(),
    advance: (ms: number) => {
      now += ms;
    },
    scheduler(jobs: Job[], graceMs?: number) {
      const s = new Scheduler(env, jobs, { graceMs });
      s.start({ tick: false });
      schedulers.push(s);
      return s;
    },
    leases: () => (db.prepare('SELECT count(*) AS n FROM leases').get() as { n: number }).n,
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
  current?.release();
  await current?.close();
  current = undefined;
});

const job = (j: Record<string, unknown>): Job => jobSchema.parse({ kind: 'build', ...j });
const tickJob = (extra: Record<string, unknown> = {}) =>
  job({ name: 'tick', cron: '* * * * * *', timezone: 'UTC', timeout: '300ms', ...extra });
const settle = () => new Promise((r) => setImmediate(r));

describe('jobs[].timeout', () => {
  it('each kind has a documented default; 0 and nonsense are refused', () => {
    expect(jobTimeout(job({ name: 'a', kind: 'build' }))).toBe(15 * 60_000);
    expect(jobTimeout(job({ name: 'a', kind: 'digest' }))).toBe(3_600_000);
    expect(jobTimeout(job({ name: 'a', kind: 'send' }))).toBe(7_200_000);
    expect(jobTimeout(job({ name: 'a', kind: 'publish' }))).toBe(15 * 60_000);
    expect(jobTimeout(job({ name: 'a', kind: 'ingest' }))).toBe(10 * 60_000);
    expect(jobTimeout(job({ name: 'a', kind: 'cards' }))).toBe(15 * 60_000);
    expect(jobTimeout(job({ name: 'a', timeout: '90s' }))).toBe(90_000);
    expect(jobSchema.safeParse({ name: 'a', kind: 'build', timeout: 0 }).success).toBe(false);
    expect(jobSchema.safeParse({ name: 'a', kind: 'build', timeout: 'soon' }).success).toBe(false);
  });

  it('a job that never settles is recorded failed (JOB_TIMEOUT, left behind), its lease released, and the next occurrence runs', async () => {
    const t = make('2025-12-10T10:00:00.500Z');
    const s = t.scheduler([tickJob()]);
    await s.tickAll(); // catch-up: first start
    t.behaviour.push('hang');
    t.advance(1000);
    await s.tickAll(); // 10:00:01 hangs until its limit, then is left behind
    const row = getRun(t.db, 'tick', '2025-12-10T10:00:01.000Z')!;
    expect(row.outcome).toBe('failed');
    expect(row.error).toMatch(
      /^JOB_TIMEOUT: tick: timeout after \d+\.\d s \(limit 300ms\); it did not stop when told to and was left behind$/,
    );
    expect(t.leases()).toBe(0);
    expect(t.logs.some((l) => l.level === 50 && /timeout after/.test(l.msg))).toBe(true);
    t.advance(1000);
    await s.tickAll();
    expect(getRun(t.db, 'tick', '2025-12-10T10:00:02.000Z')).toMatchObject({
      outcome: 'ok',
      trigger: 'schedule',
    });
  });

  it('a job that honours its AbortSignal stops within the wind-down: recorded without "left behind"', async () => {
    const t = make('2025-12-10T10:00:00.500Z');
    t.behaviour.push('abortable');
    const r = await runOne(t.env, tickJob({ cron: undefined }));
    expect(r).toMatchObject({ code: 1, abandoned: false, json: { error: { code: 'JOB_TIMEOUT' } } });
    const [row] = recentRuns(t.db, 'tick', 1);
    expect(row!.error).toMatch(/^JOB_TIMEOUT: tick: timeout after \d+\.\d s \(limit 300ms\)$/);
  });
});

describe('overlap', () => {
  it('an occurrence due while the previous one still runs is recorded skipped with that reason and a warning; the run then finishes', async () => {
    const t = make('2025-12-10T10:00:00.500Z');
    const s = t.scheduler([tickJob({ timeout: '1h' })]);
    await s.tickAll();
    t.behaviour.push('gate');
    t.advance(1000);
    const first = s.tickAll();
    await settle();
    t.advance(1000);
    await s.tickAll(); // 10:00:02 comes due while 10:00:01 runs
    expect(getRun(t.db, 'tick', '2025-12-10T10:00:02.000Z')).toMatchObject({
      outcome: 'skipped',
      trigger: 'schedule',
      error: `previous occurrence 2025-12-10T10:00:01+00:00 still running (pid ${process.pid} on ${hostname()})`,
    });
    expect(
      t.logs.some(
        (l) => l.level === 40 && /skipped .*10:00:02.*previous occurrence .* still running/.test(l.msg),
      ),
    ).toBe(true);
    t.release();
    await first;
    expect(getRun(t.db, 'tick', '2025-12-10T10:00:01.000Z')).toMatchObject({ outcome: 'ok' });
    expect(t.ran).toHaveLength(1);
  });
});

describe('dead runs', () => {
  it('a run `status` recorded failed because its process died is still run again by the next daemon start (within catchUp)', async () => {
    const dead = await deadPid();
    const t = make('2025-12-10T07:20:00+08:00');
    const daily = job({ name: 'daily', cron: '0 7 * * *', timezone: 'Asia/Hong_Kong' });
    t.db
      .prepare(
        `INSERT INTO job_runs (job, kind, occurrence, trigger, outcome, attempts, pid, host, started_at, created_at)
         VALUES ('daily', 'build', '2025-12-09T23:00:00.000Z', 'schedule', 'running', 1, ?, ?, ?, ?)`,
      )
      .run(dead, hostname(), '2025-12-09T23:00:00Z', '2025-12-09T23:00:00Z');
    t.db
      .prepare('INSERT INTO leases (name, holder, pid, host, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run('job:daily@2025-12-09T23:00:00.000Z', 'x', dead, hostname(), Date.now() + 3_600_000);
    // what `status` does first
    expect((await reapDeadRuns(t.db)).map((r) => r.outcome)).toEqual(['failed']);
    expect(getRun(t.db, 'daily', '2025-12-09T23:00:00.000Z')!.error).toMatch(
      new RegExp(`^interrupted: pid ${dead} on .* is gone`),
    );
    const s = t.scheduler([daily]);
    await s.tickAll();
    expect(getRun(t.db, 'daily', '2025-12-09T23:00:00.000Z')).toMatchObject({
      outcome: 'ok',
      attempts: 2,
      trigger: 'catch-up',
    });
  });

  it('a live run is left alone', async () => {
    const t = make('2025-12-10T10:00:00.500Z');
    const s = t.scheduler([tickJob({ timeout: '1h' })]);
    await s.tickAll();
    t.behaviour.push('gate');
    t.advance(1000);
    const p = s.tickAll();
    await settle();
    expect(await reapDeadRuns(t.db, () => t.env.ctx.clock.now().getTime())).toEqual([]);
    t.release();
    await p;
  });
});

describe('stop', () => {
  it('past the grace, a running job is ended: recorded failed with the signal, the grace and the measured times; lease released', async () => {
    const t = make('2025-12-10T10:00:00.500Z');
    const s = t.scheduler([tickJob({ timeout: '1h' })], 200);
    await s.tickAll();
    t.behaviour.push('hang');
    t.advance(1000);
    void s.tickAll();
    await settle();
    expect(await s.stop('SIGTERM')).toEqual({ forced: true });
    const row = getRun(t.db, 'tick', '2025-12-10T10:00:01.000Z')!;
    expect(row.outcome).toBe('failed');
    const m = row.error!.match(
      /^interrupted: the scheduler stopped \(SIGTERM; --grace 200ms ran out after (\d+\.\d) s\) while the run was going \((\d+\.\d) s\)$/,
    );
    expect(m, row.error!).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(0.2);
    expect(t.leases()).toBe(0);
  });
});
