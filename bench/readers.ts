// bench/readers (send half of issue 16's "scale of readers"): a send to 10k and
// 100k readers at a loopback sink, each in its own process, reporting that
// process's peak RSS and msg/s — memory must stay flat as the count grows,
// since recipients are streamed from the store a page at a time
// (Ledger.pendingStream). Readers go in by SQL (the import command's speed is
// not measured here). During the largest send, `broadsheet status` is run
// against the same store (3 times, median) and compared with the same command
// idle; the review app (`broadsheet serve` on the same store, an editor signed
// in) is asked for its gallery and the edition's send report 5 times each,
// halfway through the send and again once it has ended (the report then has
// all N rows to count, not half: the comparison does not favour the send).
//
//   npx tsx bench/readers.ts [--counts 10000,100000] [--connections 5]
// Ends with one JSON line {"bench":"readers", …}.
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServe, stopServe } from '../tests/helpers/serve.ts';
import { cookiesOf, csrfIn } from '../tests/helpers/session.ts';
import { ensureDist } from './_dist.ts';
import { peakRssMb } from './_peak-rss.ts';
import { median } from './_snapshot.ts';

const { values } = parseArgs({
  options: {
    counts: { type: 'string', default: '10000,100000' },
    connections: { type: 'string', default: '5' },
    child: { type: 'string' },
    port: { type: 'string' },
  },
});

const ROOT = join(dirname(import.meta.filename), '..');
const EDITION = 'daily-2025-12-10';
const CLI_ENV = { BROADSHEET_SECRET: 'bench', BROADSHEET_EDITOR_PASSWORD: 'bench editor passphrase' };
const cliArgs = (dir: string) => [
  '--config',
  join(dir, 'broadsheet.config.yaml'),
  '--store',
  join(dir, 'data', 'broadsheet.db'),
  '--out',
  join(dir, 'out'),
];

if (values.child) await child(values.child, Number(values.port));
else {
  ensureDist(); // `status` is timed through bin/broadsheet.js: dist/, as a user runs it
  await main();
}

/** Child: one send of the store at `dir` to the sink; reports its own peak RSS. */
async function child(dir: string, port: number) {
  const { digest, testContext } = await import('../tests/fixtures/delivery/ctx.ts');
  const { sendEdition } = await import('../src/delivery/send.ts');
  const { createSmtpTransport } = await import('../src/delivery/transports/smtp.ts');
  const { openStore } = await import('../src/store/index.ts');
  const C = Number(values.connections);
  const ctx = testContext(dir, { delivery: { connections: C } });
  const db = openStore(ctx.paths.store);
  const transport = createSmtpTransport(
    { host: '127.0.0.1', port, secure: false, ignoreTLS: true },
    { connections: C, timeoutMs: 30_000, maxMessagesPerConnection: 1_000_000 },
  );
  let announced = false;
  const t0 = performance.now();
  const s = await sendEdition(
    ctx,
    db,
    { editionId: EDITION, list: 'daily', listName: '每日簡報', digest },
    {
      transport,
      onProgress: (p) => {
        // Halfway: tell the parent, which then times `status` against this store.
        if (!announced && p.done >= p.total / 2) {
          announced = true;
          process.send!({ halfway: true });
        }
      },
    },
  );
  const ms = performance.now() - t0;
  await transport.close?.();
  db.close();
  process.send!({
    sent: s.sent,
    total: s.total,
    perSec: Math.round(s.sent / (ms / 1000)),
    peakRssMb: Math.round(peakRssMb()),
  });
}

/** N active readers straight into a fresh store by SQL (one statement). */
async function makeStore(n: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-readers-'));
  const { seedReaders, testContext } = await import('../tests/fixtures/delivery/ctx.ts');
  const { openStore } = await import('../src/store/index.ts');
  const ctx = testContext(dir);
  const db = openStore(ctx.paths.store);
  seedReaders(db, n, 'bench');
  db.close();
  writeFileSync(join(dir, 'broadsheet.config.yaml'), 'publicUrl: https://news.example.com/broadsheet/\n');
  return dir;
}

/** The review app on the store in `dir`, an editor signed in: `time()` gives each page's median ms. */
async function reviewApp(dir: string) {
  const { base, proc } = await startServe(cliArgs(dir), { ...CLI_ENV, LOG_LEVEL: 'error' });
  const login = await fetch(`${base}/login`);
  const csrf = csrfIn(await login.text());
  const signedIn = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(login) },
    body: new URLSearchParams({
      _csrf: csrf,
      name: 'bench',
      password: CLI_ENV.BROADSHEET_EDITOR_PASSWORD,
      next: '/',
    }),
  });
  const cookie = cookiesOf(signedIn);
  if (signedIn.status !== 303 || !cookie) throw new Error(`review app sign-in: HTTP ${signedIn.status}`);
  const pages = { gallery: '/', report: `/report/${EDITION}` };
  return {
    async time(rounds = 5): Promise<Record<keyof typeof pages, number>> {
      const ms: Record<string, number[]> = { gallery: [], report: [] };
      for (let i = 0; i < rounds; i++)
        for (const [name, path] of Object.entries(pages)) {
          const t0 = performance.now();
          const res = await fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie } });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`review app ${path}: HTTP ${res.status}`);
          ms[name]!.push(performance.now() - t0);
        }
      return { gallery: Math.round(median(ms.gallery!)), report: Math.round(median(ms.report!)) };
    },
    stop: () => stopServe(proc),
  };
}

/** Median wall time of `broadsheet status` against the store in `dir`, over `n` runs one after another. */
async function statusMedianMs(dir: string, n = 3): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(await statusMs(dir));
  return median(ms);
}

/** Wall time of `broadsheet status` against the store in `dir`. */
function statusMs(dir: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [join(ROOT, 'bin/broadsheet.js'), ...cliArgs(dir), 'status'],
      { cwd: ROOT, env: { ...process.env, ...CLI_ENV } },
      (err) => (err ? reject(err) : resolve(Math.round(performance.now() - t0))),
    ),
  );
}

async function main() {
  const counts = values.counts!.split(',').map(Number);
  const sink: ChildProcess = fork(join(ROOT, 'bench/send.ts'), ['--sink'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) =>
    sink.once('message', (m: { port: number }) => resolve(m.port)),
  );
  const runs: { readers: number; sent: number; perSec: number; peakRssMb: number }[] = [];
  let statusIdleMs = 0;
  let statusDuringMs = 0;
  let review: Awaited<ReturnType<typeof reviewApp>> | undefined;
  let reviewDuring: Record<'gallery' | 'report', number> | undefined;
  let reviewAfter: Record<'gallery' | 'report', number> | undefined;
  // A failed send must not leave the sink or the review app running (the bench would never exit).
  try {
    for (const [k, n] of counts.entries()) {
      const dir = await makeStore(n);
      const last = k === counts.length - 1;
      if (last) {
        statusIdleMs = await statusMedianMs(dir);
        review = await reviewApp(dir);
      }
      const p = fork(import.meta.filename, ['--child', dir, '--port', String(port)], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, LOG_LEVEL: 'warn' },
      });
      let during: Promise<number> | undefined;
      const result = await new Promise<(typeof runs)[number]>((resolve, reject) => {
        p.on('message', (m: { halfway?: boolean; sent: number; perSec: number; peakRssMb: number }) => {
          if (m.halfway) {
            if (last)
              during = statusMedianMs(dir).then(async (ms) => {
                reviewDuring = await review!.time();
                return ms;
              });
            return;
          }
          resolve({ readers: n, sent: m.sent, perSec: m.perSec, peakRssMb: m.peakRssMb });
        });
        p.once('exit', (code) => code && reject(new Error(`send child exited ${code}`)));
      });
      if (during) statusDuringMs = await during;
      if (last && review) {
        reviewAfter = await review.time();
        await review.stop();
        review = undefined;
      }
      if (result.sent !== n) throw new Error(`sent ${result.sent} of ${n}`);
      runs.push(result);
      console.log(`${n} readers: ${result.perSec} msg/s, peak RSS ${result.peakRssMb} MB`);
    }
  } finally {
    sink.kill();
    await review?.stop();
  }
  const first = runs[0]!;
  const lastRun = runs[runs.length - 1]!;
  const out = {
    bench: 'readers',
    connections: Number(values.connections),
    runs,
    rssGrowth: Number((lastRun.peakRssMb / first.peakRssMb).toFixed(2)),
    statusIdleMs,
    statusDuringSendMs: statusDuringMs,
    statusSlowdown: Number((statusDuringMs / statusIdleMs).toFixed(2)),
    reviewDuringSendMs: reviewDuring,
    reviewAfterSendMs: reviewAfter,
  };
  console.log(
    `peak RSS ${first.peakRssMb} MB at ${first.readers} → ${lastRun.peakRssMb} MB at ${lastRun.readers} (×${out.rssGrowth})`,
  );
  console.log(
    `status: ${statusIdleMs} ms idle, ${statusDuringMs} ms during the send (×${out.statusSlowdown}; medians of 3)`,
  );
  if (reviewDuring && reviewAfter)
    console.log(
      `review app (medians of 5): gallery ${reviewDuring.gallery} ms during the send, ${reviewAfter.gallery} ms after it; ` +
        `send report of the edition ${reviewDuring.report} ms during (half the readers sent), ${reviewAfter.report} ms after (all ${lastRun.readers})`,
    );
  console.log(JSON.stringify(out));
}
