// bench/fanout: messages/s of the PostgreSQL send fan-out (issue 17) with 1, 2
// and 3 `broadsheet worker` processes against one PostgreSQL and a loopback
// smtp-server (in its own process), and the SQLite store's single-process
// `broadsheet send` of the same readers beside it, in the same run. Each
// contender gets a fresh store with N readers; the rate is counted at the sink
// from its first to its last message (process start-up excluded), and the
// wall time from spawn to the last message is printed too. On 2 cores the
// workers, PostgreSQL and the sink share the CPUs: scaling is bounded by that.
//
//   npx tsx bench/fanout.ts [--readers N] [--workers 1,2,3] [--connections 4]
// Ends with one JSON line {"bench":"fanout", …}.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exited } from '../tests/helpers/child.ts';
import { freshPgDatabase } from '../tests/helpers/pg.ts';
import { ensureDist } from './_dist.ts';

const { values } = parseArgs({
  options: {
    readers: { type: 'string', default: '5000' },
    workers: { type: 'string', default: '1,2,3' },
    /** worker.connections per worker process (SMTP connections, split over its batches). */
    connections: { type: 'string', default: '4' },
    sink: { type: 'boolean' },
  },
});

if (values.sink) {
  const { SMTPServer } = await import('smtp-server');
  let count = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    maxClients: 200,
    onData(stream, _s, cb) {
      stream.on('data', () => {});
      stream.on('end', () => {
        count++;
        cb();
      });
    },
  });
  server.listen(0, '127.0.0.1', () =>
    process.send!({ port: (server.server.address() as { port: number }).port }),
  );
  process.on('message', (m) => {
    if (m === 'count') process.send!({ count });
  });
} else await main();

async function main() {
  ensureDist(); // workers are spawned through bin/broadsheet.js: dist/, as a user runs them
  const N = Number(values.readers);
  const counts = values.workers!.split(',').map(Number);
  const ROOT = join(import.meta.dirname, '..');
  const BIN = join(ROOT, 'bin/broadsheet.js');
  const { seedReaders, stageDigest, EDITION } = await import('../tests/fixtures/delivery/ctx.ts');
  const { openBackend, closeBackend } = await import('../src/store/backend.ts');
  const { storeConfigSchema } = await import('../src/store/config.ts');

  const sinkProc = fork(import.meta.filename, ['--sink'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((r) => sinkProc.once('message', (m: { port: number }) => r(m.port)));
  const sinkCount = () =>
    new Promise<number>((r) => {
      sinkProc.once('message', (m: { count: number }) => r(m.count));
      sinkProc.send('count');
    });
  const env = {
    ...process.env,
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    BROADSHEET_SECRET: 'bench',
    LOG_LEVEL: 'warn',
    DEBUG: '',
  };
  const run = (args: string[]) =>
    spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: 'ignore' });

  /** Poll the sink until `n` more arrived; the rate between the first and the last arrival. */
  const measure = async (base: number, t0: number) => {
    let first = 0;
    let last = 0;
    for (;;) {
      const c = (await sinkCount()) - base;
      const now = performance.now();
      if (c > 0 && !first) first = now;
      if (c >= N) {
        last = now;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return { perSecond: Math.round((N * 1000) / Math.max(1, last - first)), wallS: (last - t0) / 1000 };
  };
  const config = (dir: string) => {
    const f = join(dir, 'broadsheet.config.yaml');
    writeFileSync(
      f,
      `delivery:\n  connections: 4\nworker:\n  batchSize: 500\n  concurrency: 2\n  connections: ${Number(values.connections)}\n`,
    );
    return f;
  };

  const results: Record<string, { perSecond: number; wallS: number }> = {};
  // SQLite: one process, its own send.
  {
    const dir = mkdtempSync(join(tmpdir(), 'bs-bench-fanout-'));
    const file = join(dir, 'store.db');
    const b = await openBackend({ kind: 'sqlite', file }, storeConfigSchema.parse({}));
    if (b.kind === 'sqlite') seedReaders(b.db, N, 'bench');
    await closeBackend(b);
    stageDigest(join(dir, 'out'));
    const base = await sinkCount();
    const t0 = performance.now();
    const p = run([
      '--config',
      config(dir),
      '--store',
      file,
      '--out',
      join(dir, 'out'),
      'send',
      '--edition',
      EDITION,
      '--transport',
      'smtp',
    ]);
    results.sqlite = await measure(base, t0);
    await exited(p);
  }
  for (const k of counts) {
    const dir = mkdtempSync(join(tmpdir(), 'bs-bench-fanout-'));
    const db = await freshPgDatabase('bs_bench_fanout');
    const { url } = db;
    const b = await openBackend({ kind: 'postgres', url }, storeConfigSchema.parse({}));
    if (b.kind === 'postgres')
      await b.pool.query(
        `INSERT INTO subscribers (email, name, status, source, created_at, updated_at)
         SELECT 'reader' || i || '@example.com', 'r' || i, 'active', 'bench', '2025-12-01T00:00:00Z', '2025-12-01T00:00:00Z'
         FROM generate_series(0, $1 - 1) i`,
        [N],
      );
    await closeBackend(b);
    stageDigest(join(dir, 'out'));
    const args = ['--config', config(dir), '--store', url, '--out', join(dir, 'out')];
    await exited(run([...args, 'send', '--edition', EDITION, '--transport', 'smtp', '--no-wait']));
    const base = await sinkCount();
    const t0 = performance.now();
    const workers = Array.from({ length: k }, () => run([...args, 'worker']));
    results[`pg-${k}`] = await measure(base, t0);
    for (const w of workers) w.kill('SIGTERM');
    for (const w of workers) await exited(w);
    await db.drop();
  }
  sinkProc.kill();
  console.log(`${N} readers, loopback smtp-server, ${(await import('node:os')).cpus().length} CPUs`);
  for (const [k, r] of Object.entries(results))
    console.log(
      `  ${k.padEnd(8)} ${String(r.perSecond).padStart(6)} msg/s   (wall from spawn ${r.wallS.toFixed(1)} s)`,
    );
  console.log(JSON.stringify({ bench: 'fanout', readers: N, results }));
}
