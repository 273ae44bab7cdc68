import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { EDITION, ledgerOf, seedReaders, stageDigest, tempDir } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink, tally } from '../fixtures/delivery/sink.ts';
import { exited, prng, wait } from '../helpers/child.ts';
import { BIN, ROOT } from '../helpers/cli.ts';

// Exactly-once under PIPELINING (issue 16): a real `broadsheet send` of a few
// thousand readers — streamed from the store, pipelined to smtp-server, which
// offers PIPELINING — SIGKILLed at seeded random moments, resumed until it
// finishes. The rule checked (docs/performance-send.md):
//   - surplus: no reader ever gets a second message;
//   - every reader is accounted: ledger `sent` + `committed` = all readers;
//   - every `sent` row's reader got exactly one message;
//   - deficit: a reader with no message is a `committed` row (the kill fell in
//     the microseconds between the ledger commit and the "." reaching the kernel),
//     so missing ≤ committed.

const N = 2500;
const KILLS = 5;
const SEED = 160_016;

let sink: Sink;
beforeAll(async () => {
  sink = await startSink();
});
afterAll(() => sink.close());

describe('send at scale, SIGKILLed', () => {
  it(`${N} readers, ${KILLS} seeded SIGKILLs, resumed: at most one message each, all accounted`, async () => {
    const random = prng(SEED);
    const dir = tempDir('bs-scale-kill-');
    const store = join(dir, 'data', 'broadsheet.db');
    const out = join(dir, 'out');
    const config = join(dir, 'broadsheet.config.yaml');
    writeFileSync(config, 'delivery:\n  connections: 4\n  retries: 2\n  backoffMs: 10\n  maxBackoffMs: 50\n');
    stageDigest(out);
    const db = openStore(store);
    // Readers by SQL, like a large import would leave them.
    seedReaders(db, N);
    db.close();

    const args = ['--config', config, '--store', store, '--out', out, '--content', join(dir, 'content')];
    const run = () =>
      spawn(process.execPath, [BIN, ...args, 'send', '--edition', EDITION, '--transport', 'smtp'], {
        cwd: ROOT,
        env: { ...process.env, SMTP_URL: sink.url, BROADSHEET_SECRET: 'scale', DEBUG: '', LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    let kills = 0;
    let finalCode: number | null = null;
    for (let runs = 0; runs < 40; runs++) {
      const before = sink.received.length;
      const p = run();
      let stderr = '';
      p.stderr!.on('data', (c) => {
        stderr += c;
      });
      const done = exited(p);
      if (kills < KILLS) {
        // A seeded moment while messages flow: after 1–400 new arrivals, plus 0–3 ms.
        const target = before + 1 + Math.floor(random() * 400);
        const extraMs = random() * 3;
        let finished = false;
        void done.then(() => {
          finished = true;
        });
        while (!finished && sink.received.length < target) await wait(1);
        if (!finished) {
          await wait(extraMs);
          p.kill('SIGKILL');
          kills++;
        }
      }
      const code = await done;
      if (code === -1) continue;
      finalCode = code;
      if (code !== 0) throw new Error(`send exited ${code}: ${stderr}`);
      break;
    }

    expect(kills).toBeGreaterThanOrEqual(KILLS - 1);
    expect(finalCode).toBe(0);
    const { byRecipient, byMessageId } = tally(sink.received);
    const { counts, rows } = ledgerOf(store);

    // Surplus: none, by recipient and by Message-ID.
    expect([...byRecipient].filter(([, n]) => n > 1)).toEqual([]);
    expect([...byMessageId.values()].every((n) => n === 1)).toBe(true);
    // Accounted: every reader is sent or committed (in doubt), nothing left over.
    expect(rows).toHaveLength(N);
    expect(counts.sent + counts.committed).toBe(N);
    expect(counts.queued + counts.deferred + counts.failed + counts.suppressed).toBe(0);
    // Every confirmed row arrived exactly once.
    const unsent = rows.filter((r) => r.state === 'sent' && byRecipient.get(r.email) !== 1);
    expect(unsent).toEqual([]);
    // Deficit: only committed rows may be missing at the sink.
    const missing = rows.filter((r) => !byRecipient.has(r.email));
    expect(missing.every((r) => r.state === 'committed')).toBe(true);
    expect(sink.received.length).toBe(N - missing.length);
    expect(missing.length).toBeLessThanOrEqual(counts.committed);
  }, 600_000);
});
