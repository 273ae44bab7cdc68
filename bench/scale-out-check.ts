// bench/scale-out-check: issue 17's acceptance run, scripted. Against ONE fresh
// PostgreSQL database: N readers imported with the real CLI (`subscribers
// import`), a loopback smtp-server (its own process) counting what it receives
// per address and per Message-ID, TWO `broadsheet schedule` daemons with one
// `send` job whose cron fires a few seconds after they start, and THREE
// `broadsheet worker` processes; workers are SIGKILLed at seeded random moments
// while mail flows (each restarted at once). At the end it prints the per-address
// received counts (0/1/2+), the ledger's states, `status --json`'s sends figures,
// `report --json`'s figures, whether they all agree with the sink (sent +
// delivered-in-doubt = received; every received address exactly once; the
// in-doubt rows listed), and messages per second at the sink — one JSON line.
//
//   npx tsx bench/scale-out-check.ts [--readers 20000] [--kills 5] [--seed 17]
//        [--workers 3] [--daemons 2] [--batch 250] [--lease 8] [--fire-in 30] [--keep] [--quiet]
// Exit 0 when everything agrees (and no reader got two), 1 otherwise.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { exited, prng, wait } from '../tests/helpers/child.ts';
import { freshPgDatabase } from '../tests/helpers/pg.ts';
import { startCountingSink } from './_counting-sink.ts';
import { ensureDist } from './_dist.ts';

const { values } = parseArgs({
  options: {
    readers: { type: 'string', default: '20000' },
    kills: { type: 'string', default: '5' },
    seed: { type: 'string', default: '17' },
    workers: { type: 'string', default: '3' },
    daemons: { type: 'string', default: '2' },
    batch: { type: 'string', default: '250' },
    lease: { type: 'string', default: '8' },
    /** Give up waiting for the ledger to settle after this many seconds. */
    deadline: { type: 'string', default: '1800' },
    /** Seconds from now to the send job's cron occurrence (the daemons must be up by then). */
    'fire-in': { type: 'string', default: '30' },
    keep: { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
});

async function main(): Promise<number> {
  ensureDist(); // daemons and workers are spawned through bin/broadsheet.js: dist/
  const N = Number(values.readers);
  const KILLS = Number(values.kills);
  const WORKERS = Number(values.workers);
  const DAEMONS = Number(values.daemons);
  const random = prng(Number(values.seed));
  const log = (s: string) => values.quiet || process.stderr.write(`[scale-out-check] ${s}\n`);
  const ROOT = join(import.meta.dirname, '..');
  const BIN = join(ROOT, 'bin/broadsheet.js');
  const { stageDigest, EDITION } = await import('../tests/fixtures/delivery/ctx.ts');
  const t0 = performance.now();

  // One fresh database.
  const db = await freshPgDatabase('bs_scale');
  const DB = db.url;
  const pool = new pg.Pool({ connectionString: DB, max: 2 });
  pool.on('error', () => {});
  const dir = mkdtempSync(join(tmpdir(), 'bs-scale-out-'));
  const procs = new Set<ChildProcess>();
  const sink = await startCountingSink();
  const sinkProc = sink.proc;
  // Interrupted: stop what it started (the finally below does not run on a signal).
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      for (const p of procs) p.kill('SIGKILL');
      sinkProc.kill('SIGKILL');
      process.exit(130);
    });
  try {
    const port = sink.port;

    // The send job fires at a fixed second, far enough ahead for the daemons to start.
    const fire = new Date(Date.now() + Number(values['fire-in']) * 1000);
    const cron = `${fire.getUTCSeconds()} ${fire.getUTCMinutes()} ${fire.getUTCHours()} * * *`;
    const out = join(dir, 'out');
    stageDigest(out);
    const config = join(dir, 'broadsheet.config.yaml');
    writeFileSync(
      config,
      [
        'delivery:',
        '  retries: 3',
        '  backoffMs: 20',
        '  maxBackoffMs: 200',
        'worker:',
        `  batchSize: ${Number(values.batch)}`,
        '  concurrency: 2',
        '  connections: 4',
        `  leaseSeconds: ${Number(values.lease)}`,
        '  pollSeconds: 0.5',
        // The local data folder (--store is a URL): where this run's dot journals go.
        'paths:',
        `  store: ${join(dir, 'data', 'broadsheet.db')}`,
        'jobs:',
        '  - name: send-daily',
        '    kind: send',
        '    edition: daily',
        `    cron: "${cron}"`,
        '    timezone: UTC',
        '    timeout: 60m',
        '    options:',
        '      transport: smtp',
        '',
      ].join('\n'),
    );
    const args = ['--config', config, '--store', DB, '--out', out];
    const env = {
      ...process.env,
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      BROADSHEET_SECRET: 'scale-out-check',
      LOG_LEVEL: 'warn',
      DEBUG: '',
    };
    const cli = (cmd: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...cmd, ...args], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        timeout: 600_000,
        maxBuffer: 64 << 20,
      });
      if (r.status !== 0) throw new Error(`broadsheet ${cmd.join(' ')}: exit ${r.status}\n${r.stderr}`);
      return r.stdout;
    };
    const start = (cmd: string[], tag: string) => {
      const p = spawn(process.execPath, [BIN, ...cmd, ...args], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      p.stderr!.on('data', (c) => values.quiet || process.stderr.write(`[${tag}] ${c}`));
      procs.add(p);
      p.once('exit', () => procs.delete(p));
      return p;
    };

    // Readers through the real CLI (migrates the fresh database on open).
    const csv = join(dir, 'readers.csv');
    const lines = ['email,name'];
    for (let i = 0; i < N; i++) lines.push(`reader${i}@example.com,Reader ${i}`);
    writeFileSync(csv, `${lines.join('\n')}\n`);
    let t = performance.now();
    cli(['subscribers', 'import', csv]);
    const importS = (performance.now() - t) / 1000;
    log(`${N} readers imported in ${importS.toFixed(1)} s; the send job fires at ${fire.toISOString()}`);

    // A worker that exits on its own is restarted, as systemd's Restart= would (and counted).
    let stopping = false;
    const killed = new Set<ChildProcess>();
    const unexpectedExits: { worker: number; code: number | null }[] = [];
    const workers: ChildProcess[] = [];
    const startWorker = (i: number) => {
      const p = start(['worker'], `worker${i}`);
      p.once('exit', (code) => {
        if (stopping || killed.has(p)) return;
        unexpectedExits.push({ worker: i, code });
        log(`worker${i} exited on its own (${code}): restarted`);
        workers[i] = startWorker(i);
      });
      return p;
    };
    const daemons = Array.from({ length: DAEMONS }, (_, i) => start(['schedule'], `daemon${i}`));
    for (let i = 0; i < WORKERS; i++) workers.push(startWorker(i));

    // Kills at seeded points of the flow (spread over 5–85% of the readers).
    const points = Array.from({ length: KILLS }, () => Math.floor(N * (0.05 + 0.8 * random()))).sort(
      (a, b) => a - b,
    );
    const kills: { at: number; worker: number }[] = [];
    const deadline = performance.now() + Number(values.deadline) * 1000;
    for (const at of points) {
      while ((await sink.count()) < at && performance.now() < deadline) await wait(20);
      await wait(random() * 30);
      const i = Math.floor(random() * WORKERS);
      const got = await sink.count();
      const victim = workers[i]!;
      killed.add(victim);
      victim.kill('SIGKILL');
      await exited(victim);
      kills.push({ at: got, worker: i });
      log(`SIGKILL worker${i} at ${got} received`);
      workers[i] = startWorker(i);
    }

    // Until the ledger is settled and the job's run is recorded.
    const ledger = async () => {
      const r = await pool.query<{ state: string; n: number }>(
        'SELECT state, count(*)::int AS n FROM sends WHERE edition = $1 GROUP BY state',
        [EDITION],
      );
      return Object.fromEntries(r.rows.map((x) => [x.state, x.n])) as Record<string, number>;
    };
    const jobRuns = async () =>
      (
        await pool.query<{ occurrence: string; outcome: string; attempts: number }>(
          "SELECT occurrence, outcome, attempts::int AS attempts FROM job_runs WHERE job = 'send-daily' ORDER BY occurrence",
        )
      ).rows;
    let settled = false;
    for (;;) {
      const c = await ledger().catch(() => ({}) as Record<string, number>);
      const rows = await jobRuns().catch(() => []);
      const total = Object.values(c).reduce((a, b) => a + b, 0);
      if (
        total === N &&
        !c.queued &&
        !c.deferred &&
        rows.length &&
        rows.every((r) => r.outcome !== 'running')
      ) {
        settled = true;
        break;
      }
      if (performance.now() > deadline) break;
      await wait(500);
    }
    await wait(1000); // the sink's last end-of-data callbacks
    const sendS = (performance.now() - t0) / 1000;
    stopping = true;
    for (const p of [...workers, ...daemons]) p.kill('SIGTERM');
    await Promise.race([Promise.all([...workers, ...daemons].map(exited)), wait(60_000)]);

    // What the sink got, what the ledger says, what status and report say.
    const tally = await sink.tally();
    const received = new Map(tally.byAddress);
    const rows = (
      await pool.query<{ email: string; state: string; message_id: string; last_error: string | null }>(
        'SELECT email, state, message_id, last_error FROM sends WHERE edition = $1',
        [EDITION],
      )
    ).rows;
    const states = await ledger();
    const perAddress = { 0: 0, 1: 0, '2+': 0 };
    for (const r of rows) {
      const n = received.get(r.email) ?? 0;
      perAddress[n === 0 ? 0 : n === 1 ? 1 : '2+']++;
    }
    const inLedger = new Set(rows.map((r) => r.email));
    const strangers = [...received.keys()].filter((a) => !inLedger.has(a));
    const inDoubt = rows
      .filter((r) => r.state === 'committed')
      .map((r) => ({ email: r.email, messageId: r.message_id, received: received.get(r.email) ?? 0 }));
    const sentRows = rows.filter((r) => r.state === 'sent');
    const sentNotReceived = sentRows.filter((r) => received.get(r.email) !== 1).map((r) => r.email);
    const deliveredInDoubt = inDoubt.filter((r) => r.received === 1).length;
    const dupMessageIds = tally.byMessageId.filter(([, n]) => n > 1).length;

    t = performance.now();
    const status = JSON.parse(cli(['status', '--json'])) as {
      sends?: { edition: string; total?: number; byState?: Record<string, number>; inDoubt?: number }[];
      processes?: unknown[];
    };
    const report = JSON.parse(cli(['report', EDITION, '--json'])) as Record<string, unknown>;
    const statusSends = status.sends?.find((s) => s.edition === EDITION);
    const reportSends = figures(report);
    const checks = {
      settled,
      noSecondCopy: perAddress['2+'] === 0 && dupMessageIds === 0,
      noStranger: strangers.length === 0,
      everySentReceivedOnce: sentNotReceived.length === 0,
      sentPlusDeliveredInDoubtEqualsReceived: sentRows.length + deliveredInDoubt === received.size,
      onlyInDoubtMissing: perAddress[0] === inDoubt.length - deliveredInDoubt,
      allAccounted: (states.sent ?? 0) + (states.committed ?? 0) === N,
      statusAgrees:
        statusSends?.byState?.sent === (states.sent ?? 0) &&
        (statusSends?.inDoubt ?? statusSends?.byState?.committed ?? 0) === (states.committed ?? 0),
      // report counts in-doubt rows as sent (handed to the server) and lists them apart.
      reportAgrees:
        reportSends.sent === (states.sent ?? 0) + (states.committed ?? 0) &&
        (reportSends.inDoubt ?? 0) === (states.committed ?? 0),
      oneJobRun: (await jobRuns()).length === 1,
    };
    const ok = Object.values(checks).every(Boolean);
    const line = {
      bench: 'scale-out-check',
      ok,
      readers: N,
      daemons: DAEMONS,
      workers: WORKERS,
      seed: Number(values.seed),
      kills,
      unexpectedExits,
      received: {
        messages: tally.count,
        addresses: received.size,
        perAddress,
        dupMessageIds,
        strangers: strangers.length,
      },
      ledger: states,
      inDoubt,
      status: statusSends ?? null,
      report: reportSends,
      jobRuns: await jobRuns(),
      checks,
      messagesPerSecond: Math.round((tally.count * 1000) / Math.max(1, tally.ms)),
      seconds: {
        import: +importS.toFixed(1),
        total: +sendS.toFixed(1),
        sinkFirstToLast: +(tally.ms / 1000).toFixed(1),
      },
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return ok ? 0 : 1;
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    sinkProc.kill('SIGKILL');
    await pool.end().catch(() => {});
    if (!values.keep) {
      await db.drop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    } else process.stderr.write(`[scale-out-check] kept ${DB} and ${dir}\n`);
  }
}

/** The send figures of `report --json`, wherever the report nests them. */
function figures(report: Record<string, unknown>): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  const walk = (v: unknown, path: string) => {
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      if (
        typeof x === 'number' &&
        /^(sends?\.)?(sent|delivered|committed|inDoubt|failed|deferred|queued|total)$/.test(p)
      )
        out[k] = x;
      else if (typeof x === 'object' && p.split('.').length < 2) walk(x, p);
    }
  };
  walk(report, '');
  return out;
}

process.exitCode = await main();
