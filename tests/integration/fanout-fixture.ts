import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeBackend, openBackend } from '../../src/store/backend.ts';
import type { SendState } from '../../src/store/ledger.ts';
import { PgLedger } from '../../src/store/pg/ledger.ts';
import { EDITION, stageDigest, tempDir } from '../fixtures/delivery/ctx.ts';
import { BIN, ROOT } from '../helpers/cli.ts';
import { freshPgDatabase, type PgTestDb } from '../helpers/pg.ts';
import { STORE_CONFIG } from '../helpers/stores.ts';

// Shared setup of the send fan-out tests (issue 17): a fresh PostgreSQL database
// with N readers inserted by SQL, a staged digest, a config with a short lease,
// and the CLI (`send`, `worker`) as real child processes.

export { EDITION };

export interface FanoutWorld {
  db: PgTestDb;
  dir: string;
  args: string[];
  /** Spawn `broadsheet <cmd…>` against this world (SMTP_URL given by the caller). */
  spawnCli(cmd: string[], env?: NodeJS.ProcessEnv): ChildProcess & { output: () => string };
  counts(): Promise<Record<SendState, number>>;
  rows(): Promise<{ email: string; state: string; last_error: string | null }[]>;
  query(sql: string, args?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

export async function fanoutWorld(
  readers: number,
  workerYaml: string,
  deliveryYaml = '',
): Promise<FanoutWorld> {
  const db = await freshPgDatabase('bs_fanout');
  const b = await openBackend({ kind: 'postgres', url: db.url }, STORE_CONFIG);
  if (b.kind !== 'postgres') throw new Error('postgres expected');
  await b.pool.query(
    `INSERT INTO subscribers (email, name, status, source, created_at, updated_at)
     SELECT 'reader' || i || '@example.com', '讀者' || i, 'active', 'test', '2025-12-01T00:00:00Z', '2025-12-01T00:00:00Z'
     FROM generate_series(0, $1 - 1) i`,
    [readers],
  );
  await closeBackend(b);
  const dir = tempDir('bs-fanout-');
  const out = join(dir, 'out');
  stageDigest(out);
  const config = join(dir, 'broadsheet.config.yaml');
  writeFileSync(
    config,
    `delivery:\n  retries: 2\n  backoffMs: 10\n  maxBackoffMs: 50\n${deliveryYaml}worker:\n${workerYaml}`,
  );
  const args = ['--config', config, '--store', db.url, '--out', out, '--content', join(dir, 'content')];
  const spawnCli = (cmd: string[], env: NodeJS.ProcessEnv = {}) => {
    const p = spawn(process.execPath, [BIN, ...args, ...cmd], {
      cwd: ROOT,
      env: { ...process.env, BROADSHEET_SECRET: 'fanout', DEBUG: '', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    p.stdout!.on('data', (c) => {
      text += c;
    });
    p.stderr!.on('data', (c) => {
      text += c;
    });
    return Object.assign(p, { output: () => text });
  };
  const query = async <T>(
    fn: (
      l: PgLedger,
      b: Extract<Awaited<ReturnType<typeof openBackend>>, { kind: 'postgres' }>,
    ) => Promise<T>,
  ) => {
    const c = await openBackend({ kind: 'postgres', url: db.url }, STORE_CONFIG, { migrate: false });
    if (c.kind !== 'postgres') throw new Error('postgres expected');
    try {
      return await fn(new PgLedger(c.pool, c.url, null), c);
    } finally {
      await closeBackend(c);
    }
  };
  return {
    db,
    dir,
    args,
    spawnCli,
    counts: () => query((l) => l.counts(EDITION)),
    rows: () =>
      query(
        async (_l, c) =>
          (await c.pool.query('SELECT email, state, last_error FROM sends WHERE edition = $1', [EDITION]))
            .rows,
      ),
    query: (sql, args = []) => query(async (_l, c) => (await c.pool.query(sql, args)).rows),
    drop: () => db.drop(),
  };
}

export { exited, prng, wait } from '../helpers/child.ts';
