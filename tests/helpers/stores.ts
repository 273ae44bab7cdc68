import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { type Backend, closeBackend, openBackend, type StoreTarget } from '../../src/store/backend.ts';
import { storeConfigSchema } from '../../src/store/config.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from './pg.ts';

/**
 * The store conformance harness (issue 17), like a driver test suite: the same
 * tests run against the SQLite store and the PostgreSQL store.
 *
 *   describeStores('ledger', (s) => {
 *     it('…', async () => { const b = await s.open(); … });
 *   });
 *
 * s.open() gives a fresh, migrated, empty store each call (a new SQLite file;
 * a new PostgreSQL schema-less database per file, emptied between tests by
 * s.open() truncating every table). Backends opened by a test are closed after it.
 * PostgreSQL tests are skipped with a message when no server answers (never in CI).
 */
export interface StoreUnderTest {
  kind: 'sqlite' | 'postgres';
  /** A fresh empty store; closed after the test. */
  open(): Promise<Backend>;
  /** The target of the store the last open() made (to open it again, or hand to a child process). */
  target(): StoreTarget;
  /** The address to give the CLI as --store. */
  address(): string;
}

export const STORE_CONFIG = storeConfigSchema.parse({ poolMax: 4 });

const pgOk = await needsPostgres();

export function describeStores(name: string, fn: (s: StoreUnderTest) => void) {
  describe(`${name} [sqlite]`, () => fn(sqliteStore()));
  describe.skipIf(!pgOk)(`${name} [postgres]`, () => fn(postgresStore()));
}

function sqliteStore(): StoreUnderTest {
  let dir: string;
  let n = 0;
  let last: StoreTarget | undefined;
  const open: Backend[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bs-store-'));
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await closeBackend(b).catch(() => {});
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    kind: 'sqlite',
    async open() {
      last = { kind: 'sqlite', file: join(dir, `s${++n}.db`) };
      const b = await openBackend(last, STORE_CONFIG);
      open.push(b);
      return b;
    },
    target: () => last!,
    address: () => (last as { file: string }).file,
  };
}

function postgresStore(): StoreUnderTest {
  let db: PgTestDb | undefined;
  const open: Backend[] = [];
  beforeAll(async () => {
    db = await freshPgDatabase();
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await closeBackend(b).catch(() => {});
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    kind: 'postgres',
    async open() {
      const b = await openBackend({ kind: 'postgres', url: db!.url }, STORE_CONFIG);
      if (b.kind === 'postgres') await truncateAll(b);
      open.push(b);
      return b;
    },
    target: () => ({ kind: 'postgres', url: db!.url }),
    address: () => db!.url,
  };
}

/** Empty every Broadsheet table (not the schema version), restarting identities. */
async function truncateAll(b: Extract<Backend, { kind: 'postgres' }>) {
  const r = await b.pool.query<{ t: string }>(
    "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'broadsheet_schema'",
  );
  if (r.rows.length)
    await b.pool.query(`TRUNCATE ${r.rows.map((x) => `"${x.t}"`).join(', ')} RESTART IDENTITY CASCADE`);
}
