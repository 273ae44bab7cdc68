import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink, tally } from '../fixtures/delivery/sink.ts';
import { needsPostgres } from '../helpers/pg.ts';
import { EDITION, exited, type FanoutWorld, fanoutWorld, prng, wait } from './fanout-fixture.ts';

// Exactly-once across workers (issue 17): `send --no-wait` queues 1,000 readers
// in batches; three `broadsheet worker` processes take them; workers are
// SIGKILLed at seeded random moments (each replaced at once). A killed worker's
// batch is taken over after its lease; rows it had committed stay committed.
// Checked at the sink:
//   - no reader ever gets a second message (by address and by Message-ID);
//   - every `sent` row's reader got exactly one; only `committed` rows (in
//     doubt) may be missing, each received at most once;
//   - the ledger accounts for every reader: sent + committed = N.
// Each replacement worker reads its dead predecessors' dot journals (this
// host): a row a killed worker committed whose "." never left goes back to
// deferred and is sent again, so the only rows left `committed` are ones whose
// "." was written: a reader the sink lacks must be one of them, so there are no
// more such readers than journaled "."s (a reset may still make a receiving
// server drop a "." it had not read yet).

const pgOk = await needsPostgres();
const N = 1000;
const KILLS = 6;
const SEED = 170_017;

describe.skipIf(!pgOk)('fan-out, workers SIGKILLed', () => {
  let sink: Sink;
  let w: FanoutWorld;
  const data = tempDir('bs-fanout-kill-');
  const procs = new Set<ChildProcess>();
  beforeAll(async () => {
    sink = await startSink();
    w = await fanoutWorld(
      N,
      // paths.store (unused: --store is a URL) names the host-local data folder of the dot journals.
      `  batchSize: 50\n  concurrency: 2\n  connections: 2\n  leaseSeconds: 3\n  pollSeconds: 0.5\npaths:\n  store: ${join(data, 'broadsheet.db')}\n`,
    );
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await sink?.close();
    await w?.drop();
  });

  it(`${N} readers, 3 workers, ${KILLS} seeded SIGKILLs: each reader at most once, all accounted`, async () => {
    const random = prng(SEED);
    const q = w.spawnCli(['send', '--edition', EDITION, '--transport', 'smtp', '--no-wait'], {
      SMTP_URL: sink.url,
    });
    expect(await exited(q), q.output()).toBe(0);
    expect(sink.received.length).toBe(0);

    const workers: ChildProcess[] = [];
    const outputs: (() => string)[] = [];
    const start = () => {
      const p = w.spawnCli(['worker'], { SMTP_URL: sink.url, LOG_LEVEL: 'warn' });
      outputs.push(p.output);
      procs.add(p);
      p.once('exit', () => procs.delete(p));
      return p;
    };
    for (let i = 0; i < 3; i++) workers.push(start());

    let kills = 0;
    while (kills < KILLS && sink.received.length < N - 60) {
      // A seeded moment while messages flow: after 20–120 new arrivals, plus 0–5 ms.
      const target = sink.received.length + 20 + Math.floor(random() * 100);
      while (sink.received.length < target && sink.received.length < N - 60) await wait(2);
      await wait(random() * 5);
      const i = Math.floor(random() * 3);
      workers[i]!.kill('SIGKILL');
      await exited(workers[i]!);
      kills++;
      workers[i] = start();
    }
    expect(kills).toBeGreaterThanOrEqual(5);

    // Until every row is settled (killed workers' rows come free after their lease).
    let c = await w.counts();
    for (let i = 0; i < 600 && c.queued + c.deferred > 0; i++) {
      await wait(500);
      c = await w.counts();
    }
    for (const p of workers) p.kill('SIGTERM');
    for (const p of workers) await exited(p);

    const rows = await w.rows();
    const { byRecipient, byMessageId } = tally(sink.received);
    expect([...byRecipient].filter(([, n]) => n > 1)).toEqual([]);
    expect([...byMessageId.values()].every((n) => n === 1)).toBe(true);
    expect(rows).toHaveLength(N);
    expect(c.sent + c.committed).toBe(N);
    expect(c.queued + c.deferred + c.failed + c.suppressed).toBe(0);
    // Every confirmed row arrived exactly once; only committed rows may be missing.
    expect(rows.filter((r) => r.state === 'sent' && byRecipient.get(r.email) !== 1)).toEqual([]);
    const missing = rows.filter((r) => !byRecipient.has(r.email));
    expect(missing.every((r) => r.state === 'committed')).toBe(true);
    expect(sink.received.length).toBe(N - missing.length);
    // The dot journal: what is left in doubt had its "." written, and the sink got it.
    const reconciled = [
      ...outputs
        .map((o) => o())
        .join('\n')
        .matchAll(/"deferred":(\d+),"inDoubt":(\d+)/g),
    ];
    const resent = reconciled.reduce((n, m) => n + Number(m[1]), 0);
    const journaled = reconciled.reduce((n, m) => n + Number(m[2]), 0);
    console.log(
      `fanout-kill: ${kills} kills, sent ${c.sent}, in doubt ${c.committed} (${journaled} with a journaled "."; ${missing.length} never reached the sink), ${resent} whose "." never left sent again`,
    );
    // A reader with no message must be one whose "." the journal saw written: a
    // row committed without a "." is sent again, never left missing. The converse
    // is not promised: a "." written just before the SIGKILL can still be lost —
    // the killed socket is reset (it had unread replies), and the kernel drops
    // what the sink had not read yet (docs/scale-out-send.md, "What is left";
    // it happened once in about twenty CI runs).
    expect(missing.length).toBeLessThanOrEqual(journaled);
    // Every journal was settled: the killed ones by their successors, the last ones on SIGTERM.
    expect(readdirSync(join(data, 'fanout-journal'))).toEqual([]);
  }, 400_000);
});
