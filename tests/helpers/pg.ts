import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { isCI } from './system.ts';

/**
 * PostgreSQL for tests (issue 17). Every development and CI machine has one on
 * 127.0.0.1:5432 (trust auth); BROADSHEET_TEST_PG overrides the admin URL.
 * Each test file makes its own database (freshPgDatabase) and drops it after.
 */
export const PG_ADMIN_URL = process.env.BROADSHEET_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let reachable: boolean | undefined;

/** Whether the server answers (once per test process). */
export async function pgReachable(): Promise<boolean> {
  if (reachable !== undefined) return reachable;
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    reachable = true;
  } catch {
    reachable = false;
  } finally {
    await c.end().catch(() => {});
  }
  return reachable;
}

/**
 * For `describe.skipIf(!(await needsPostgres()))(…)`: in CI a missing server is
 * a failure (.ci/run starts it); elsewhere the tests are skipped with a message
 * naming what is missing, never silently.
 */
export async function needsPostgres(): Promise<boolean> {
  if (await pgReachable()) return true;
  if (isCI()) throw new Error(`PostgreSQL is not answering at ${PG_ADMIN_URL} in CI: .ci/run must start it`);
  console.warn(
    `SKIPPED: needs PostgreSQL at ${PG_ADMIN_URL} — start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set BROADSHEET_TEST_PG`,
  );
  return false;
}

export interface PgTestDb {
  url: string;
  name: string;
  /** Drops the database (terminating any connection left open). */
  drop(): Promise<void>;
}

/** A new empty database named bs_test_<random>; drop() it in afterAll. */
export async function freshPgDatabase(prefix = 'bs_test'): Promise<PgTestDb> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: () => dropDatabase(name),
  };
}

/**
 * Drop a test database. Connections still closing (a pool whose end() just
 * resolved, a child process exiting) get up to 5 s to go on their own; only
 * then are they terminated (WITH (FORCE)) — a terminated connection that the
 * test process still holds would surface as an uncaught 57P01 error.
 */
async function dropDatabase(name: string) {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    for (let i = 0; i < 50; i++) {
      const r = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      if (r.rows[0].n === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
