// The daemon and `run` as ops use them: real `broadsheet schedule` processes
// on one SQLite store, a per-second `ingest` job reading a feed from a
// node:http server on 127.0.0.1 (cheap, and the server counts how many times
// the job really ran, and can hold a run open for as long as a test needs).
// Nothing here waits for a fixed time: every wait is for an event (a log
// line, a request, a row, an exit).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.ts';

const FEED = readFileSync(join(ROOT, 'tests/fixtures/scheduler/feed.xml'));

// ── the feed server ──────────────────────────────────────────────────────────
let server: Server;
let port: number;
let requests = 0;
let holding: { released: Promise<void>; arrive: () => void } | undefined;

/** Hold feed responses until release(); `arrived` settles when the first held request comes in. */
function hold() {
  let release!: () => void;
  let arrive!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const arrived = new Promise<void>((r) => {
    arrive = r;
  });
  holding = { released, arrive };
  return {
    arrived,
    release: () => {
      holding = undefined;
      release();
    },
  };
}

beforeAll(async () => {
  server = createServer((req, res: ServerResponse) => {
    requests++;
    if (req.url === '/broken.xml') {
      res.writeHead(500).end('no');
      return;
    }
    const send = () => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(FEED);
    if (!holding) return send();
    holding.arrive();
    void holding.released.then(send);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// ── processes ────────────────────────────────────────────────────────────────
interface Proc {
  child: ChildProcess;
  lines: { msg?: string; level?: number; [k: string]: unknown }[];
  waitLine(re: RegExp): Promise<void>;
  exited: Promise<number | null>;
}
const procs: Proc[] = [];
afterEach(() => {
  for (const p of procs.splice(0))
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, DEBUG: '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Proc['lines'] = [];
  const waiters: { re: RegExp; done: () => void }[] = [];
  let buf = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const raw = buf.slice(0, i);
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
      let line: Proc['lines'][number];
      try {
        line = JSON.parse(raw);
      } catch {
        line = { msg: raw };
      }
      lines.push(line);
      for (const w of [...waiters])
        if (w.re.test(line.msg ?? '')) {
          waiters.splice(waiters.indexOf(w), 1);
          w.done();
        }
    }
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const p: Proc = {
    child,
    lines,
    exited,
    waitLine: (re) =>
      lines.some((l) => re.test(l.msg ?? ''))
        ? Promise.resolve()
        : new Promise((done) => {
            waiters.push({ re, done });
          }),
  };
  procs.push(p);
  return p;
}

async function cli(args: string[]) {
  const p = start(args);
  let stdout = '';
  p.child.stdout!.removeAllListeners('data');
  p.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  const code = await p.exited;
  return { code, stdout, lines: p.lines };
}

const tick = () => new Promise((r) => setTimeout(r, 50));

/** Poll the store (read-only) until `pred` holds. */
async function until<T>(db: string, read: (d: Database.Database) => T, pred: (v: T) => boolean): Promise<T> {
  for (;;) {
    try {
      const d = new Database(db, { readonly: true });
      try {
        const v = read(d);
        if (pred(v)) return v;
      } finally {
        d.close();
      }
    } catch {
      // not created yet
    }
    await tick();
  }
}

function workspace(jobsYaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'bs-sched-it-'));
  const cfg = join(dir, 'broadsheet.config.yaml');
  writeFileSync(cfg, `jobs:\n${jobsYaml}`);
  const db = join(dir, 'data', 'bs.db');
  const g = ['--config', cfg, '--content', join(dir, 'content'), '--out', join(dir, 'out'), '--store', db];
  return { dir, db, g };
}

const everySecond = (feed = 'feed.xml') => `  - name: tick
    kind: ingest
    cron: "* * * * * *"
    timezone: UTC
    options:
      feeds: ["http://127.0.0.1:${port}/${feed}"]
`;

type Row = { occurrence: string; outcome: string; attempts: number; pid: number; trigger: string };
const rows = (d: Database.Database) =>
  d
    .prepare('SELECT occurrence, outcome, attempts, pid, trigger FROM job_runs ORDER BY occurrence')
    .all() as Row[];

/**
 * The rows of runs that started. Seconds that came due while the held run was
 * going are recorded `skipped`, each naming that run as the reason: checked
 * here, then left out.
 */
function started(d: Database.Database) {
  const all = d.prepare('SELECT occurrence, outcome, error FROM job_runs ORDER BY occurrence').all() as {
    occurrence: string;
    outcome: string;
    error: string | null;
  }[];
  const first = all.find((r) => r.outcome !== 'skipped');
  for (const r of all.filter((x) => x.outcome === 'skipped'))
    expect(r.error).toMatch(
      new RegExp(
        `^previous occurrence ${first!.occurrence.replace(/\.000Z$/, '\\+00:00')} still running \\(pid \\d+ on `,
      ),
    );
  return all.filter((r) => r.outcome !== 'skipped');
}

describe('broadsheet schedule', () => {
  it('two daemons on one store run each per-second occurrence exactly once', async () => {
    const w = workspace(everySecond());
    requests = 0;
    const a = start([...w.g, 'schedule', '--heartbeat', '1']);
    const b = start([...w.g, 'schedule', '--heartbeat', '1']);
    await Promise.all([a.waitLine(/scheduler started/), b.waitLine(/scheduler started/)]);
    await until(w.db, rows, (r) => r.filter((x) => x.outcome === 'ok').length >= 4);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);

    const d = new Database(w.db, { readonly: true });
    const all = rows(d);
    const ok = all.filter((r) => r.outcome === 'ok');
    // The job ran exactly as many times as there are ok rows: nobody ran an occurrence twice.
    expect(requests).toBe(ok.length);
    expect(ok.every((r) => r.attempts === 1)).toBe(true);
    // No second went unaccounted for between the first and the last.
    const secs = all.map((r) => Date.parse(r.occurrence) / 1000);
    expect(secs.at(-1)! - secs[0]! + 1).toBe(all.length);
    // Each daemon's own log: the occurrences it ran are disjoint.
    const ran = (p: Proc) => p.lines.filter((l) => /: running /.test(l.msg ?? '')).map((l) => l.occurrence);
    const ra = ran(a);
    const rb = ran(b);
    expect(ra.filter((o) => rb.includes(o))).toEqual([]);
    expect(ra.length + rb.length).toBe(ok.length);
    expect(d.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 0 });
    const beats = d.prepare('SELECT state FROM scheduler_heartbeats').all();
    expect(beats).toEqual([{ state: 'stopped' }, { state: 'stopped' }]);
    d.close();

    // status --json, read the way a monitor script would
    const s = await cli([...w.g, 'status', '--json']);
    expect(s.code).toBe(0);
    const st = JSON.parse(s.stdout);
    expect(st.scheduler.alive).toBe(false);
    expect(st.scheduler.instances).toHaveLength(2);
    const job = st.jobs.find((j: { name: string }) => j.name === 'tick');
    expect(job.next.at).toMatch(/Z$/);
    expect(job.runs[0]).toMatchObject({ outcome: expect.stringMatching(/ok|skipped/), trigger: 'schedule' });
    expect(st.sends).toEqual([]);
  });

  it('SIGTERM during a job: no new runs, the job finishes, the lease is released, exit 0', async () => {
    const w = workspace(everySecond());
    requests = 0;
    const h = hold();
    const d = start([...w.g, 'schedule', '--heartbeat', '1']);
    await h.arrived; // the job is inside its HTTP fetch
    d.child.kill('SIGTERM');
    await d.waitLine(/stopping: waiting for 1 running job/);
    const db = new Database(w.db, { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 1 });
    expect(started(db).map((r) => r.outcome)).toEqual(['running']);
    h.release();
    expect(await d.exited).toBe(0);
    expect(started(db).map((r) => r.outcome)).toEqual(['ok']);
    expect(db.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT state FROM scheduler_heartbeats').get()).toEqual({ state: 'stopped' });
    expect(requests).toBe(1);
    db.close();
  });

  it('a second SIGTERM while a job runs stops at once: the run is recorded failed (interrupted), exit 1', async () => {
    const w = workspace(everySecond());
    requests = 0;
    const h = hold();
    const d = start([...w.g, 'schedule', '--heartbeat', '1']);
    await h.arrived;
    d.child.kill('SIGTERM');
    await d.waitLine(/stopping: waiting for 1 running job/);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(1);
    h.release();
    const db = new Database(w.db, { readonly: true });
    const r = started(db);
    expect(r).toHaveLength(1);
    expect(r[0]!.outcome).toBe('failed');
    expect(r[0]!.error).toMatch(/interrupted/);
    db.close();
  });

  it('`run` while the daemon holds the occurrence: "already running", exit 0; a killed daemon’s run is taken over', async () => {
    // A daily job whose occurrence was an hour ago, and a record of the day
    // before: the daemon catches that occurrence up on start.
    const now = new Date();
    const at = new Date(now.getTime() - 3_600_000);
    const w = workspace(`  - name: daily
    kind: ingest
    cron: "${at.getUTCMinutes()} ${at.getUTCHours()} * * *"
    timezone: UTC
    catchUp: 3h
    options:
      feeds: ["http://127.0.0.1:${port}/feed.xml"]
`);
    const occ = new Date(at);
    occ.setUTCSeconds(0, 0);
    const { openStore } = await import('../../src/store/db.ts');
    const s = openStore(w.db);
    const before = new Date(occ.getTime() - 86_400_000).toISOString();
    s.prepare(
      `INSERT INTO job_runs (job, kind, occurrence, trigger, outcome, attempts, started_at, finished_at, created_at)
       VALUES ('daily', 'ingest', ?, 'schedule', 'ok', 1, ?, ?, ?)`,
    ).run(before, before, before, before);
    s.close();

    requests = 0;
    const h = hold();
    const d = start([...w.g, 'schedule', '--heartbeat', '1']);
    await h.arrived;
    const r = await cli([...w.g, 'run', 'daily']);
    expect(r.code).toBe(0);
    expect(r.lines.some((l) => /already running/.test(l.msg ?? ''))).toBe(true);

    // SIGKILL: the lease stays behind, held by a pid that no longer exists
    d.child.kill('SIGKILL');
    await d.exited;
    h.release();
    const db = new Database(w.db, { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 1 });
    db.close();
    const again = await cli([...w.g, 'run', 'daily']);
    expect(again.code).toBe(0);
    const db2 = new Database(w.db, { readonly: true });
    expect(
      db2
        .prepare('SELECT outcome, attempts, trigger FROM job_runs WHERE occurrence = ?')
        .get(occ.toISOString()),
    ).toEqual({ outcome: 'ok', attempts: 2, trigger: 'run' });
    expect(db2.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 0 });
    db2.close();
    // and once more: it already ran
    const third = await cli([...w.g, 'run', 'daily']);
    expect(third.code).toBe(0);
    expect(third.lines.some((l) => /already ran/.test(l.msg ?? ''))).toBe(true);
    expect(requests).toBe(2);
  });

  it('restart after an outage: the latest missed second runs once (catch-up), the rest are recorded skipped', async () => {
    const w = workspace(everySecond());
    requests = 0;
    const a = start([...w.g, 'schedule', '--heartbeat', '1']);
    await until(w.db, rows, (r) => r.filter((x) => x.outcome === 'ok').length >= 2);
    a.child.kill('SIGKILL'); // the outage
    await a.exited;
    const d0 = new Database(w.db, { readonly: true });
    const last = Date.parse(rows(d0).at(-1)!.occurrence);
    d0.close();
    // stay down for at least two occurrences
    while (Date.now() < last + 2500) await tick();
    const b = start([...w.g, 'schedule', '--heartbeat', '1']);
    await until(w.db, rows, (r) =>
      r.some((x) => x.trigger === 'schedule' && Date.parse(x.occurrence) > last + 2000),
    );
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    // Read once the daemon has stopped: ticks no longer wait for a running job
    // (an occurrence due meanwhile is recorded skipped), so the catch-up run
    // may still have been going when the first scheduled row appeared.
    const d1 = new Database(w.db, { readonly: true });
    const after = rows(d1);
    d1.close();
    const catchUp = after.filter((r) => r.trigger === 'catch-up');
    expect(catchUp.filter((r) => r.outcome === 'ok')).toHaveLength(1);
    expect(catchUp.filter((r) => r.outcome === 'skipped').length).toBeGreaterThanOrEqual(1);
    expect(b.lines.some((l) => l.level === 40 && /skipping \d+ missed occurrence/.test(l.msg ?? ''))).toBe(
      true,
    );
    const d = new Database(w.db, { readonly: true });
    const all = rows(d);
    const secs = all.map((r) => Date.parse(r.occurrence) / 1000);
    expect(secs.at(-1)! - secs[0]! + 1).toBe(all.length); // every second accounted for, once
    // each run that reached the feed server has its row; a run cut by SIGKILL is marked failed (interrupted)
    expect(all.filter((r) => r.outcome === 'running')).toEqual([]);
    expect(requests).toBeGreaterThanOrEqual(all.filter((r) => r.outcome === 'ok').length);
    expect(requests).toBeLessThanOrEqual(all.filter((r) => r.outcome !== 'skipped').length);
    d.close();
  });

  it('`run` exits 1 when the job fails, and records it', async () => {
    const w = workspace(`  - name: broken
    kind: ingest
    options:
      feeds: ["http://127.0.0.1:${port}/broken.xml"]
`);
    const r = await cli([...w.g, 'run', 'broken', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      status: 'ran',
      run: { outcome: 'failed', trigger: 'manual' },
    });
    const st = JSON.parse((await cli([...w.g, 'status', '--json'])).stdout);
    expect(st.jobs[0]).toMatchObject({ name: 'broken', cron: null, next: null, last: { outcome: 'failed' } });
  });
});
