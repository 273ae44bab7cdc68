// The daemon's limits, as ops meet them: real `broadsheet schedule` processes
// on a temp store, a per-second `ingest` job reading a feed from a node:http
// server on 127.0.0.1 that can hang a request for good. The hang used here is
// a feed request that is accepted and never answered (the feed fetcher's own
// 15 s limit is longer than the job limits configured below, so the JOB
// limit is what ends it). Every wait is for an event (a row, a log line, an
// exit); no assertion is about speed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pause, read, run, start, until } from '../helpers/daemon.ts';

const FEED = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://news.example.com/</link><description>d</description></channel></rss>`;

let server: Server;
let port: number;
const hits = new Map<string, number>();
const hung: ServerResponse[] = [];
let arrived: (() => void) | undefined;

beforeAll(async () => {
  // /hang.xml: every request is held; /hang-first.xml: only the first one.
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path === '/hang.xml' || (path === '/hang-first.xml' && n === 1)) {
      hung.push(res);
      arrived?.();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(FEED);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const firstHang = () =>
  new Promise<void>((r) => {
    arrived = r;
  });

function workspace(feed: string, extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'bs-limits-'));
  const cfg = join(dir, 'broadsheet.config.yaml');
  writeFileSync(
    cfg,
    `jobs:
  - name: tick
    kind: ingest
    cron: "* * * * * *"
    timezone: UTC
${extra}    options:
      feeds: ["http://127.0.0.1:${port}/${feed}"]
`,
  );
  const db = join(dir, 'data', 'bs.db');
  const g = ['--config', cfg, '--content', join(dir, 'content'), '--out', join(dir, 'out'), '--store', db];
  return { dir, db, g };
}

interface Row {
  id: number;
  occurrence: string;
  outcome: string;
  trigger: string;
  attempts: number;
  pid: number | null;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
}
const rows = (d: import('better-sqlite3').Database) =>
  d.prepare('SELECT * FROM job_runs ORDER BY occurrence').all() as Row[];
const leases = (d: import('better-sqlite3').Database) =>
  (d.prepare('SELECT count(*) AS n FROM leases').get() as { n: number }).n;
/** An occurrence as the run records name it: ISO 8601 in the job's zone (UTC here). */
const utcLocal = (iso: string) => iso.replace(/\.000Z$/, '+00:00');
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('job time limits under the daemon', () => {
  it('a job past its timeout is stopped and recorded JOB_TIMEOUT, the seconds due meanwhile are recorded skipped, and the next occurrence runs on schedule', {
    timeout: 120_000,
  }, async () => {
    const w = workspace('hang-first.xml', '    timeout: 2s\n');
    const d = start([...w.g, 'schedule', '--heartbeat', '1']);
    // Wait for the hung run to be recorded failed and for a later run to finish ok.
    const all = await until(w.db, rows, (r) => {
      const failed = r.find((x) => x.outcome === 'failed');
      return Boolean(failed && r.some((x) => x.outcome === 'ok' && x.occurrence > failed.occurrence));
    });
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);

    const failed = all.find((r) => r.outcome === 'failed')!;
    const m = failed.error!.match(/^JOB_TIMEOUT: tick: timeout after (\d+\.\d) s \(limit 2s\)/);
    expect(m, failed.error!).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(2);
    expect(failed.trigger).toBe('schedule');
    // The log said so, at error, with the code.
    expect(d.lines.some((l) => l.level === 50 && l.code === 'JOB_TIMEOUT')).toBe(true);

    // Every second due while it hung is recorded skipped, naming the run that held the job.
    const during = all.filter((r) => r.occurrence > failed.occurrence && r.occurrence < failed.finished_at!);
    expect(during.length).toBeGreaterThanOrEqual(1);
    for (const r of during) {
      expect(r.outcome).toBe('skipped');
      expect(r.error).toMatch(
        new RegExp(
          `^previous occurrence ${esc(utcLocal(failed.occurrence))} still running \\(pid ${failed.pid} on `,
        ),
      );
    }
    expect(
      d.lines.filter(
        (l) => l.level === 40 && /skipped .*: previous occurrence .* still running/.test(l.msg ?? ''),
      ).length,
    ).toBeGreaterThanOrEqual(during.length);

    // The first occurrence due after the timed-out run was recorded is run, on
    // its own tick (trigger schedule, not a catch-up), and succeeds.
    const next = all.find((r) => r.occurrence > failed.finished_at!)!;
    expect(next).toMatchObject({ outcome: 'ok', trigger: 'schedule', attempts: 1 });
    expect(hits.get('/hang-first.xml')).toBeGreaterThanOrEqual(2);
    // No second went unaccounted for, nothing is left running, no lease is left behind.
    const final = read(w.db, rows);
    const secs = final.map((r) => Date.parse(r.occurrence) / 1000);
    expect(secs.at(-1)! - secs[0]! + 1).toBe(final.length);
    expect(final.filter((r) => r.outcome === 'running')).toEqual([]);
    expect(read(w.db, leases)).toBe(0);
    expect(read(w.db, (x) => rows(x).find((r) => r.id === failed.id)!.outcome)).toBe('failed');
  });

  it('SIGTERM during a hung job honours --grace, then ends it: recorded failed with the real elapsed time, lease released, exit 1; `run` meanwhile records its occurrence skipped', {
    timeout: 120_000,
  }, async () => {
    const w = workspace('hang.xml', '    timeout: 1h\n');
    const hang = firstHang();
    const d = start([...w.g, 'schedule', '--heartbeat', '1', '--grace', '1']);
    await hang;
    const held = await until(w.db, rows, (r) => r.some((x) => x.outcome === 'running'));
    const running = held.find((r) => r.outcome === 'running')!;

    // Another process asked to run the job meanwhile: the occurrence it stands
    // for is recorded skipped (by it, or a moment earlier by the daemon's own
    // tick), naming the hung run; exit 0. When the daemon's tick holds that
    // occurrence's lease at the very instant `run` asks, `run` says so
    // (already-running, naming the daemon) and the daemon records the skip.
    // `run` stands for the latest occurrence: past the hung one's second, so it
    // is a later occurrence than the hung run's (a fast machine could otherwise
    // ask within that same second and find the hung run itself holding it).
    const after = Date.parse(running.occurrence) + 1100 - Date.now();
    if (after > 0) await pause(after);
    const r = await run([...w.g, 'run', 'tick', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.occurrence).not.toBe(running.occurrence);
    expect(out.status).toMatch(/^(skipped|already-done|already-running)$/);
    if (out.status === 'already-running') {
      expect(out.holder.pid).toBe(d.child.pid);
      const settled = await until(w.db, rows, (rs) =>
        rs.some((x) => x.occurrence === out.occurrence && x.outcome !== 'running'),
      );
      out.run = settled.find((x) => x.occurrence === out.occurrence);
    }
    expect(out.run.outcome).toBe('skipped');
    expect(out.run.error).toMatch(
      new RegExp(
        `^previous occurrence ${esc(utcLocal(running.occurrence))} still running \\(pid ${d.child.pid} on `,
      ),
    );

    d.child.kill('SIGTERM');
    await d.waitLine(/stopping: waiting for 1 running job/);
    expect(await d.exited).toBe(1);
    const row = read(w.db, rows).find((x) => x.id === running.id)!;
    expect(row.outcome).toBe('failed');
    const m = row.error!.match(
      /^interrupted: the scheduler stopped \(SIGTERM; --grace 1s ran out after (\d+\.\d) s\) while the run was going \((\d+\.\d) s\)$/,
    );
    expect(m, row.error!).not.toBeNull();
    const waited = Number(m![1]);
    const going = Number(m![2]);
    expect(waited).toBeGreaterThanOrEqual(1);
    // The run had been going longer than the stop waited: the text is measured, not the grace echoed.
    expect(going).toBeGreaterThan(waited);
    expect(read(w.db, leases)).toBe(0);
    expect(read(w.db, (x) => x.prepare('SELECT state FROM scheduler_heartbeats').get())).toEqual({
      state: 'stopped',
    });
    expect(read(w.db, rows).filter((x) => x.outcome === 'running')).toEqual([]);
  });
});

describe('status after a daemon is killed', () => {
  it('marks its heartbeat stale, lists none of its jobs as running, and records its unfinished run failed (interrupted)', {
    timeout: 120_000,
  }, async () => {
    const w = workspace('hang.xml', '    timeout: 1h\n');
    const hang = firstHang();
    const d = start([...w.g, 'schedule', '--heartbeat', '1']);
    await hang;
    // Alive: the heartbeat lists the hung job as running.
    let st = JSON.parse((await run([...w.g, 'status', '--json'])).stdout);
    while (!st.scheduler.instances[0]?.running.length) {
      await pause(200);
      st = JSON.parse((await run([...w.g, 'status', '--json'])).stdout);
    }
    expect(st.scheduler).toMatchObject({ alive: true, stale: false });
    expect(st.scheduler.instances[0]).toMatchObject({
      alive: true,
      stale: false,
      running: [{ job: 'tick' }],
    });
    const pid = d.child.pid!;

    d.child.kill('SIGKILL');
    await d.exited;
    // The first status after the kill records the run its dead process left running.
    const first = JSON.parse((await run([...w.g, 'status', '--json'])).stdout);
    expect(first.reaped).toEqual([expect.objectContaining({ job: 'tick', pid })]);
    expect(read(w.db, rows).filter((r) => r.outcome === 'running')).toEqual([]);
    const last = first.jobs[0].runs.find((x: { outcome: string }) => x.outcome !== 'skipped');
    expect(last.outcome).toBe('failed');
    expect(last.error).toMatch(new RegExp(`^interrupted: pid ${pid} on .* is gone`));

    // Once its heartbeat is older than 3 intervals: stale, not alive, running nothing.
    let s = first;
    while (!s.scheduler.stale) {
      await pause(250);
      s = JSON.parse((await run([...w.g, 'status', '--json'])).stdout);
    }
    expect(s.scheduler).toMatchObject({ alive: false, stale: true });
    expect(s.scheduler.instances[0]).toMatchObject({
      pid,
      state: 'running',
      alive: false,
      stale: true,
      running: [],
    });
    expect(s.scheduler.instances[0].ageMs).toBeGreaterThan(3 * s.scheduler.instances[0].intervalMs);
    const human = await run([...w.g, 'status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/scheduler: not running/);
    expect(human.stdout).toMatch(new RegExp(`pid ${pid} on .*: STALE`));
    expect(human.stdout).not.toMatch(/running tick/);
  });
});
