// bench/send-kill-check: issue 16's check of exactly-once under PIPELINING,
// scripted at full size. One `broadsheet send` (the real CLI, compiled dist/,
// embedded SQLite store) to N readers (default 100,000) with a digest of
// realistic size (~55 KB), to a loopback smtp-server that offers PIPELINING
// and counts what it receives per address and per Message-ID (its own
// process, bench/_counting-sink.ts). The send is SIGKILLed at seeded random
// moments while mail flows and started again each time until it exits 0.
// Then, the rule of docs/performance-send.md:
//   - surplus: no reader and no Message-ID received twice;
//   - accounted: ledger sent + committed = N; nothing queued, deferred, failed;
//   - every `sent` row's reader received exactly one message;
//   - deficit: a reader the sink never got is a `committed` row (missing ≤ committed).
// Prints the figures, then one JSON line. Exit 0 when the rule holds, 1 otherwise.
//
//   npx tsx bench/send-kill-check.ts [--readers 100000] [--kills 5] [--seed 16]
//        [--connections 5] [--deadline 900] [--keep]
// A send that stops making progress (no new message at the sink for 60 s) or a
// whole check past --deadline seconds is killed and reported: exit 1, never a hang.
// tests/integration/send-scale-kill.test.ts checks the same rule on 2,500 readers
// inside the suite; this is the full-size run, named: `npm run bench send-kill-check`.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src/store/index.ts';
import {
  bigDigest,
  EDITION,
  ledgerOf,
  seedReaders,
  stageDigest,
  tempDir,
} from '../tests/fixtures/delivery/ctx.ts';
import { exited, prng, wait } from '../tests/helpers/child.ts';
import { startCountingSink } from './_counting-sink.ts';
import { ensureDist } from './_dist.ts';

const { values } = parseArgs({
  options: {
    readers: { type: 'string', default: '100000' },
    kills: { type: 'string', default: '5' },
    seed: { type: 'string', default: '16' },
    connections: { type: 'string', default: '5' },
    deadline: { type: 'string', default: '900' },
    keep: { type: 'boolean' },
  },
});

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/broadsheet.js');

async function main(): Promise<number> {
  ensureDist(); // `send` runs through bin/broadsheet.js, as a user runs it
  const N = Number(values.readers);
  const KILLS = Number(values.kills);
  const random = prng(Number(values.seed));
  const log = (s: string) => process.stderr.write(`[send-kill-check] ${s}\n`);

  const dir = tempDir('bs-send-kill-');
  const store = join(dir, 'data', 'broadsheet.db');
  const out = join(dir, 'out');
  const config = join(dir, 'broadsheet.config.yaml');
  writeFileSync(
    config,
    `delivery:\n  connections: ${Number(values.connections)}\n  retries: 2\n  backoffMs: 10\n  maxBackoffMs: 50\n`,
  );
  // A digest of realistic size (~55 KB of CJK HTML, as bench/send.ts), so a
  // body takes as long to write as a real one: the kill windows are the real ones.
  stageDigest(out, EDITION, bigDigest);
  const db = openStore(store);
  seedReaders(db, N, 'bench');
  db.close();

  const sink = await startCountingSink();
  let current: ChildProcess | undefined;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      current?.kill('SIGKILL');
      sink.proc.kill('SIGKILL');
      process.exit(130);
    });
  try {
    const args = ['--config', config, '--store', store, '--out', out, '--content', join(dir, 'content')];
    const env = {
      ...process.env,
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
      BROADSHEET_SECRET: 'send-kill-check',
      DEBUG: '',
      LOG_LEVEL: 'warn',
    };
    // Kill points spread over the whole send: each after a seeded number of new
    // arrivals (up to twice an even share), then 0–3 ms more.
    const share = Math.max(1, Math.floor(N / (KILLS + 1)));
    const t0 = performance.now();
    const deadline = t0 + Number(values.deadline) * 1000;
    let timedOut: string | undefined;
    let kills = 0;
    let runs = 0;
    let finalCode: number | null = null;
    let stderr = '';
    // A run that stalls (no new arrival for STALL_MS) or outlives the deadline is killed: bounded, and said.
    const STALL_MS = 60_000;
    const watch = async (p: ChildProcess, isDone: () => boolean) => {
      let seen = await sink.count();
      let since = performance.now();
      while (!isDone()) {
        await wait(250);
        const now = await sink.count();
        if (now !== seen) [seen, since] = [now, performance.now()];
        const stalled = performance.now() - since > STALL_MS;
        if (!isDone() && (stalled || performance.now() > deadline)) {
          timedOut = stalled
            ? `no message reached the sink for ${STALL_MS / 1000} s`
            : `past --deadline ${values.deadline} s`;
          p.kill('SIGKILL');
          return;
        }
      }
    };
    for (; runs < KILLS + 20 && !timedOut; runs++) {
      const before = await sink.count();
      const p = spawn(process.execPath, [BIN, ...args, 'send', '--edition', EDITION, '--transport', 'smtp'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      current = p;
      stderr = '';
      p.stderr!.on('data', (c) => {
        stderr += c;
      });
      let finished = false;
      const done = exited(p).then((code) => {
        finished = true;
        return code;
      });
      const watching = watch(p, () => finished);
      if (kills < KILLS) {
        const target = before + 1 + Math.floor(random() * 2 * share);
        const extraMs = random() * 3;
        while (!finished && !timedOut && (await sink.count()) < target) await wait(2);
        if (!finished && !timedOut) {
          await wait(extraMs);
          p.kill('SIGKILL');
          kills++;
          log(`kill ${kills} at ~${(await sink.count()).toLocaleString('en')} received`);
        }
      }
      const code = await done;
      await watching;
      if (timedOut) break;
      if (code === -1) continue;
      finalCode = code;
      break;
    }
    const sendS = (performance.now() - t0) / 1000;
    await wait(500); // the sink's last end-of-data callbacks
    const tally = await sink.tally();
    const received = new Map(tally.byAddress);
    const { counts, rows } = ledgerOf(store);

    const surplusReaders = tally.byAddress.filter(([, n]) => n > 1).length;
    const surplusIds = tally.byMessageId.filter(([, n]) => n > 1).length;
    const sentNotOnce = rows.filter((r) => r.state === 'sent' && received.get(r.email) !== 1).length;
    const missing = rows.filter((r) => !received.has(r.email));
    const missingNotCommitted = missing.filter((r) => r.state !== 'committed').length;
    const leftOver = counts.queued + counts.deferred + counts.failed + counts.suppressed;
    const ok =
      !timedOut &&
      finalCode === 0 &&
      kills === KILLS &&
      rows.length === N &&
      surplusReaders === 0 &&
      surplusIds === 0 &&
      counts.sent + counts.committed === N &&
      leftOver === 0 &&
      sentNotOnce === 0 &&
      missingNotCommitted === 0 &&
      missing.length <= counts.committed;

    console.log(
      `${N.toLocaleString('en')} readers, ${kills} SIGKILLs, ${runs + 1} runs of \`broadsheet send\` (last exit ${finalCode}) in ${sendS.toFixed(1)} s`,
    );
    console.log(
      `sink: ${tally.count.toLocaleString('en')} messages; readers received twice: ${surplusReaders}; Message-IDs twice: ${surplusIds}; ${Math.round((tally.count * 1000) / Math.max(1, tally.ms))} msg/s first to last`,
    );
    console.log(
      `ledger: sent ${counts.sent}, committed (in doubt) ${counts.committed}, left over ${leftOver}; sent rows not received exactly once: ${sentNotOnce}; readers never received: ${missing.length} (all committed: ${missingNotCommitted === 0})`,
    );
    if (timedOut) console.log(`stopped: ${timedOut}; the send was killed`);
    if (finalCode !== 0) console.log(`last run's stderr:\n${stderr}`);
    console.log(
      timedOut
        ? 'exactly-once rule: not judged — the send did not finish'
        : ok
          ? 'exactly-once rule: holds'
          : 'exactly-once rule: BROKEN',
    );
    console.log(
      JSON.stringify({
        bench: 'send-kill-check',
        readers: N,
        kills,
        runs: runs + 1,
        exit: finalCode,
        timedOut: timedOut ?? null,
        received: tally.count,
        surplusReaders,
        surplusMessageIds: surplusIds,
        sent: counts.sent,
        committed: counts.committed,
        leftOver,
        sentNotReceivedOnce: sentNotOnce,
        missing: missing.length,
        missingNotCommitted,
        sinkPerSec: Math.round((tally.count * 1000) / Math.max(1, tally.ms)),
        seconds: Number(sendS.toFixed(1)),
        ok,
      }),
    );
    return ok ? 0 : 1;
  } finally {
    current?.kill('SIGKILL');
    sink.proc.kill('SIGKILL');
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
}

process.exitCode = await main();
