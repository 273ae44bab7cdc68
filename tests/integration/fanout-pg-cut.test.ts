import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink, tally } from '../fixtures/delivery/sink.ts';
import { needsPostgres } from '../helpers/pg.ts';
import { EDITION, exited, type FanoutWorld, fanoutWorld, prng, wait } from './fanout-fixture.ts';

// The database cuts a worker's connections in the middle of a send: the real
// PostgreSQL server terminates every backend of the test database but the
// test's own (pg_terminate_backend) — pg-boss's statements, the ledger pool's
// claims, compare-and-set commits and `sent` marks, the heartbeat — at seeded
// moments while messages flow. The ledger's promises (docs/scale-out-send.md)
// must hold as for a SIGKILL:
//   - no reader gets a second message (by address and by Message-ID);
//   - every `sent` row's reader got exactly one; a reader the sink lacks is a
//     `committed` row (in doubt: a COMMIT that landed but whose reply was lost);
//   - sent + committed = N, nothing left queued, deferred or failed.
// And the worker process survives: pg's pool drops a terminated client and the
// next statement connects again (src/store/pg/pool.ts), a batch that failed on
// the store is given back to the queue, a lost COMMIT reply means no "."; so
// each worker is still alive after the cuts and stops cleanly on SIGTERM
// (exit 0), its output naming the lost connection (STORE_PG_UNREACHABLE
// warnings) — never an unhandled 'error' event or rejection. A delivered
// message is not left in doubt by a cut: its `sent` mark is written again on a
// new connection (before that fix, 1–2 delivered rows per run stayed
// `committed`). The second case cuts `broadsheet send` (no worker) the same way.

const pgOk = await needsPostgres();
const N = 600;
const CUTS = 3;
const SEED = 570_057;
const WORKER_YAML = (data: string) =>
  `  batchSize: 50\n  concurrency: 2\n  connections: 2\n  leaseSeconds: 3\n  pollSeconds: 0.5\npaths:\n  store: ${join(data, 'broadsheet.db')}\n`;

/** Terminate every connection to the database but the caller's; how many went. */
async function cutAll(admin: pg.Client): Promise<number> {
  const r = await admin.query(
    `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()) x WHERE t`,
  );
  return r.rows[0].n;
}

/**
 * Output lines that are neither the logger's JSON lines nor the final summary:
 * a raw stack trace, an unhandled 'error' event or rejection (src/cli/guard.ts
 * prints those as INTERNAL), anything printed past the logger.
 */
const stray = (text: string, summary: RegExp) =>
  text
    .split('\n')
    .filter((l) => l.trim() && !summary.test(l))
    .filter((l) => {
      try {
        const j = JSON.parse(l) as { level?: number; msg?: string };
        return (
          typeof j.level !== 'number' || j.level >= 60 || /INTERNAL|escaped every handler/.test(j.msg ?? '')
        );
      } catch {
        return true;
      }
    });

/** The workers' log lines by message (store URLs and numbers folded), with their catalog codes. */
function logged(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of text.split('\n')) {
    if (!l.startsWith('{"level"')) continue;
    const j = JSON.parse(l) as { msg?: string; code?: string; err?: { code?: string } | string };
    const code = j.code ?? (typeof j.err === 'object' ? j.err?.code : undefined);
    const k = `${code ? `${code} ` : ''}${String(j.msg)
      .replace(/postgres:\/\/\S+/g, '<store>')
      .replace(/\d+/g, 'N')
      .slice(0, 90)}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Cut every connection CUTS times, each at a seeded moment while messages flow (after `from` arrivals). */
async function cutWhileFlowing(
  sink: Sink,
  admin: pg.Client,
  random: () => number,
  from: number,
  until: () => boolean,
) {
  const cuts: number[] = [];
  while (cuts.length < CUTS && sink.received.length < from + N - 60 && !until()) {
    const target = sink.received.length + 40 + Math.floor(random() * 80);
    while (sink.received.length < target && sink.received.length < from + N - 60 && !until()) await wait(2);
    if (until()) break;
    await wait(random() * 5);
    cuts.push(await cutAll(admin));
  }
  return cuts;
}

/** A client on the test database that survives the cuts it makes (it is never one of the terminated). */
async function connectAdmin(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  // A terminated backend of our own would be an 'error' event: none is expected, but never crash on it.
  c.on('error', () => {});
  await c.connect();
  return c;
}

describe.skipIf(!pgOk)('fan-out, PostgreSQL cuts the workers’ connections mid-send', () => {
  let sink: Sink;
  let w: FanoutWorld;
  let admin: pg.Client;
  const data = tempDir('bs-fanout-pg-cut-');
  const procs = new Set<ChildProcess>();
  beforeAll(async () => {
    sink = await startSink();
    w = await fanoutWorld(N, WORKER_YAML(data));
    admin = await connectAdmin(w.db.url);
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await admin?.end().catch(() => {});
    await sink?.close();
    await w?.drop();
  });

  const spawnTracked = (cmd: string[]) => {
    const p = w.spawnCli(cmd, { SMTP_URL: sink.url, LOG_LEVEL: 'warn' });
    procs.add(p);
    p.once('exit', () => procs.delete(p));
    return p;
  };

  it(`${N} readers, 2 workers, ${CUTS} seeded cuts of every connection: each reader at most once, all accounted, workers alive`, async () => {
    const random = prng(SEED);
    const q = w.spawnCli(['send', '--edition', EDITION, '--transport', 'smtp', '--no-wait'], {
      SMTP_URL: sink.url,
    });
    expect(await exited(q), q.output()).toBe(0);
    expect(sink.received.length).toBe(0);

    const workers = [spawnTracked(['worker']), spawnTracked(['worker'])];
    const cuts = await cutWhileFlowing(sink, admin, random, 0, () =>
      workers.some((p) => p.exitCode !== null),
    );
    const output = () => workers.map((p, i) => `--- worker ${i}\n${p.output()}`).join('\n');
    expect(cuts.length, output()).toBe(CUTS);
    // Every cut found the workers connected (pg-boss, the pool, the heartbeat): at least one backend each.
    expect(cuts.every((n) => n >= 2)).toBe(true);

    // Until every row is settled (a batch that failed on the cut goes back to the queue; claims lapse).
    let c = await w.counts();
    for (let i = 0; i < 120 && c.queued + c.deferred > 0; i++) {
      await wait(250);
      c = await w.counts();
    }
    // Each worker lived through the cuts: pg dropped the dead clients and it connected again.
    expect(
      workers.map((p) => p.exitCode),
      output(),
    ).toEqual([null, null]);
    const settled = c;
    for (const p of workers) p.kill('SIGTERM');
    const codes = await Promise.all(workers.map((p) => exited(p)));
    expect(codes, output()).toEqual([0, 0]);
    expect(settled.queued + settled.deferred, JSON.stringify(settled)).toBe(0);
    // On a clean stop each worker settles its own dot journal: a row it committed
    // whose COMMIT reply the cut took (so no "." was written) goes back to
    // deferred and is queued again. One more worker sends those.
    c = await w.counts();
    const requeued = c.queued + c.deferred;
    if (requeued) {
      const last = spawnTracked(['worker']);
      for (let i = 0; i < 120 && c.queued + c.deferred > 0; i++) {
        await wait(250);
        c = await w.counts();
      }
      last.kill('SIGTERM');
      expect(await exited(last), last.output()).toBe(0);
      c = await w.counts();
    }

    const rows = await w.rows();
    const { byRecipient, byMessageId } = tally(sink.received);
    expect([...byRecipient].filter(([, n]) => n > 1)).toEqual([]);
    expect([...byMessageId.values()].filter((n) => n !== 1)).toEqual([]);
    expect(rows).toHaveLength(N);
    expect(c.queued + c.deferred + c.failed + c.suppressed, JSON.stringify(c)).toBe(0);
    expect(c.sent + c.committed).toBe(N);
    expect(rows.filter((r) => r.state === 'sent' && byRecipient.get(r.email) !== 1)).toEqual([]);
    const missing = rows.filter((r) => !byRecipient.has(r.email));
    expect(missing.filter((r) => r.state !== 'committed')).toEqual([]);
    expect(sink.received.length).toBe(N - missing.length);
    // A delivered message whose `sent` mark met a cut connection is marked on a
    // new one (PgLedger.writeSent), not left in doubt (it was, 1–2 per run).
    expect(rows.filter((r) => r.state === 'committed' && byRecipient.has(r.email))).toEqual([]);

    const text = output();
    // Named, not crashed: the lost connection shows as a warning or a catalog code, never a stack trace.
    expect(stray(text, /^(--- worker \d|worker stopped: )/)).toEqual([]);
    expect(text).toMatch(/STORE_PG_UNREACHABLE.*(terminat|connection)/);
    console.log(
      `fanout-pg-cut (workers): what the workers logged: ${JSON.stringify(logged(text))}\n` +
        `fanout-pg-cut (workers): ${cuts.length} cuts (${cuts.join(', ')} backends), sent ${c.sent}, in doubt ${c.committed} (${missing.length} never reached the sink), received ${sink.received.length}, ${requeued} requeued on stop`,
    );
  }, 120_000);
});

// The same cuts while `broadsheet send` (no --no-wait: it takes the batches
// itself, no worker) runs: it must end in bounded time with an exit code — 0,
// or 1 with a catalog code — and the ledger must account for every reader
// (sent + committed + queued/deferred = N; nothing failed), with no second copy
// at the sink and every reader the sink lacks a row still in doubt or pending.
describe.skipIf(!pgOk)('fan-out, PostgreSQL cuts `broadsheet send`’s connections mid-send', () => {
  let sink: Sink;
  let w: FanoutWorld;
  let admin: pg.Client;
  const data = tempDir('bs-fanout-pg-cut-send-');
  let send: ChildProcess | undefined;
  beforeAll(async () => {
    sink = await startSink();
    w = await fanoutWorld(N, WORKER_YAML(data));
    admin = await connectAdmin(w.db.url);
  });
  afterAll(async () => {
    send?.kill('SIGKILL');
    await admin?.end().catch(() => {});
    await sink?.close();
    await w?.drop();
  });

  it(`${N} readers, send in-process, ${CUTS} seeded cuts: bounded end with a code, every reader accounted, none twice`, async () => {
    const random = prng(SEED + 1);
    const p = w.spawnCli(['--json', 'send', '--edition', EDITION, '--transport', 'smtp'], {
      SMTP_URL: sink.url,
      LOG_LEVEL: 'warn',
    });
    send = p;
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (c) => {
      stdout += c;
    });
    p.stderr!.on('data', (c) => {
      stderr += c;
    });
    const cuts = await cutWhileFlowing(sink, admin, random, 0, () => p.exitCode !== null);
    // Bounded: the send ends by itself (a generous bound; SIGKILL and fail past it).
    const code = await Promise.race([exited(p), wait(90_000).then(() => 'hung' as const)]);
    if (code === 'hung') p.kill('SIGKILL');
    const text = p.output();
    expect(code, text).not.toBe('hung');
    expect(cuts.length, text).toBe(CUTS);
    expect([0, 1], text).toContain(code);
    // Exit 0 prints the summary (--json); exit 1 names its catalog code. Either way no raw crash.
    if (code === 0) expect(JSON.parse(stdout), stdout).toMatchObject({ edition: EDITION, total: N });
    else expect(stderr).toMatch(/\b(STORE_PG_[A-Z_]+|FANOUT_[A-Z_]+)\b/);
    expect(stray(stderr, /^$/), stderr).toEqual([]);

    const c = await w.counts();
    const rows = await w.rows();
    const { byRecipient, byMessageId } = tally(sink.received);
    expect([...byRecipient].filter(([, n]) => n > 1)).toEqual([]);
    expect([...byMessageId.values()].filter((n) => n !== 1)).toEqual([]);
    expect(rows).toHaveLength(N);
    expect(c.failed + c.suppressed, JSON.stringify(c)).toBe(0);
    expect(c.sent + c.committed + c.queued + c.deferred).toBe(N);
    if (code === 0) expect(c.queued + c.deferred, JSON.stringify(c)).toBe(0);
    expect(rows.filter((r) => r.state === 'sent' && byRecipient.get(r.email) !== 1)).toEqual([]);
    const missing = rows.filter((r) => !byRecipient.has(r.email));
    expect(missing.filter((r) => r.state === 'sent')).toEqual([]);
    // As for the workers: a delivered message is marked sent on a new connection, not left in doubt.
    expect(rows.filter((r) => r.state === 'committed' && byRecipient.has(r.email))).toEqual([]);
    expect(sink.received.length).toBe(N - missing.length);
    console.log(
      `fanout-pg-cut (send): what send logged: ${JSON.stringify(logged(stderr))}\n` +
        `fanout-pg-cut (send): ${cuts.length} cuts (${cuts.join(', ')} backends), exit ${code}, sent ${c.sent}, in doubt ${c.committed}, pending ${c.queued + c.deferred}, received ${sink.received.length}`,
    );
  }, 150_000);
});
