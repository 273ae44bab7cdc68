import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCopy, SKIPPED_TABLES } from '../../src/store/copy-schema.ts';
import { openStore } from '../../src/store/db.ts';
import { migrations } from '../../src/store/migrations.ts';
import { run } from '../helpers/daemon.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';
import { dumpStore, FIXTURE, fillStore, holdSendLease, holdWorkerClaim } from '../helpers/store-fixture.ts';

// Issue 17: `broadsheet store copy` moves every table between SQLite and
// PostgreSQL, row for row, with counts checked, and refuses what would lose or
// mix data. The kill-midway case is in store-copy-kill.test.ts.

const pgOk = await needsPostgres();
const ENV = { BROADSHEET_SECRET: 'store-copy-test-secret' };

const tablesOf = (db: Database.Database) =>
  db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];

describe('the store fixture', () => {
  it('has a row in every table, and every table is either copied or on the skip list', () => {
    const db = openStore(':memory:');
    fillStore(db);
    const empty = tablesOf(db).filter(
      (t) => !(db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number),
    );
    // A table added by a migration: give it a realistic row in tests/helpers/store-fixture.ts.
    expect(empty, 'tables without a fixture row').toEqual([]);
    const info = tablesOf(db).map((name) => ({
      name,
      columns: (db.prepare(`PRAGMA table_info("${name}")`).all() as { name: string }[]).map((c) => c.name),
      refs: (db.prepare(`PRAGMA foreign_key_list("${name}")`).all() as { table: string }[]).map(
        (f) => f.table,
      ),
    }));
    const plan = planCopy(info, info, { from: 'a', to: 'b' });
    expect([...plan.copy.map((t) => t.name), ...plan.skipped.map((s) => s.table)].sort()).toEqual(
      tablesOf(db),
    );
    // Parents before children.
    const at = (t: string) => plan.copy.findIndex((x) => x.name === t);
    expect(at('subscribers')).toBeLessThan(at('sends'));
    expect(at('signups')).toBeLessThan(at('confirm_sends'));
    expect(at('inbound_messages')).toBeLessThan(at('mail_events'));
    db.close();
  });
});

describe.skipIf(!pgOk)('broadsheet store copy', () => {
  let dir: string;
  let pgA: PgTestDb;
  let pgB: PgTestDb;
  let src: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bs-copy-'));
    [pgA, pgB] = await Promise.all([freshPgDatabase(), freshPgDatabase()]);
    src = join(dir, 'newsroom.db');
    const db = openStore(src);
    fillStore(db);
    db.close();
  });
  afterAll(async () => {
    await Promise.all([pgA?.drop(), pgB?.drop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const copy = (args: string[]) => run(['store', 'copy', ...args], { cwd: dir, env: ENV });
  const copied = Object.keys(FIXTURE).filter((t) => !SKIPPED_TABLES[t]);

  it('copies SQLite → PostgreSQL → a new SQLite store with every row of every table equal', async () => {
    const toPg = await copy(['--from', src, '--to', pgA.url, '--json']);
    expect(toPg.code, toPg.stderr).toBe(0);
    const out = JSON.parse(toPg.stdout) as {
      tables: { table: string; rows: number }[];
      skipped: { table: string }[];
      rows: number;
      version: number;
    };
    expect(out.version).toBe(migrations.length);
    expect(Object.fromEntries(out.tables.map((t) => [t.table, t.rows]))).toEqual(
      Object.fromEntries(copied.map((t) => [t, FIXTURE[t]!.length]).sort()),
    );
    expect(out.skipped.map((s) => s.table).sort()).toEqual(Object.keys(SKIPPED_TABLES).sort());

    const c = new pg.Client({ connectionString: pgA.url });
    await c.connect();
    try {
      for (const t of Object.keys(SKIPPED_TABLES))
        expect(Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n), t).toBe(0);
      const blob = (await c.query('SELECT raw FROM inbound_messages WHERE id = 6')).rows[0].raw as Buffer;
      expect(blob).toEqual(FIXTURE.inbound_messages![0]!.raw);
      const ms = (await c.query('SELECT expires_at FROM editor_sessions')).rows[0].expires_at;
      expect(String(ms)).toBe(String(FIXTURE.editor_sessions![0]!.expires_at));
      // Identities continue after the copied ids (subscribers: 1 and 7).
      await c.query('BEGIN');
      const id = (
        await c.query(
          "INSERT INTO subscribers (email, topics, status, created_at, updated_at) VALUES ('new@example.hk', '[]', 'active', 'x', 'x') RETURNING id",
        )
      ).rows[0].id;
      await c.query('ROLLBACK');
      expect(Number(id)).toBe(8);
    } finally {
      await c.end();
    }

    const back = join(dir, 'back.db');
    const toLite = await copy(['--from', pgA.url, '--to', `sqlite:${back}`]);
    expect(toLite.code, toLite.stderr).toBe(0);
    // The printed counts: one line per table.
    for (const t of copied)
      expect(toLite.stdout).toMatch(new RegExp(`^\\s+${t}\\s+${FIXTURE[t]!.length}$`, 'm'));
    expect(toLite.stdout).toMatch(/not copied \(process state of the source\): leases/);

    const a = new Database(src, { readonly: true });
    const b = new Database(back, { readonly: true });
    try {
      const [da, db] = [dumpStore(a), dumpStore(b)];
      expect(Object.keys(db)).toEqual(Object.keys(da));
      for (const t of copied) expect(db[t], t).toEqual(da[t]);
      for (const t of Object.keys(SKIPPED_TABLES)) expect(db[t], t).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('refuses a non-empty target, and --replace replaces it in one transaction', async () => {
    const again = await copy(['--from', src, '--to', pgA.url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /STORE_COPY_TARGET_NOT_EMPTY: .*already holds data \(\d+ rows in \d+ tables: .*subscribers 2/,
    );
    const replaced = await copy(['--from', src, '--to', pgA.url, '--replace', '--json']);
    expect(replaced.code, replaced.stderr).toBe(0);
    const out = JSON.parse(replaced.stdout) as { replaced: boolean; rows: number };
    expect(out.replaced).toBe(true);
    expect(out.rows).toBe(copied.reduce((s, t) => s + FIXTURE[t]!.length, 0));
  });

  it('refuses a live send lease or worker claim (naming the holder) unless --force', async () => {
    const busy = join(dir, 'busy.db');
    const claimed = join(dir, 'claimed.db');
    for (const [file, hold] of [
      [busy, holdSendLease],
      [claimed, holdWorkerClaim],
    ] as const) {
      const db = openStore(file);
      fillStore(db);
      hold(db);
      db.close();
    }
    const [refused, forced, byWorker] = await Promise.all([
      copy(['--from', busy, '--to', join(dir, 'busy-copy.db')]),
      copy(['--from', busy, '--to', join(dir, 'busy-forced.db'), '--force', '--json']),
      copy(['--from', claimed, '--to', join(dir, 'claimed-copy.db')]),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /STORE_COPY_SEND_RUNNING: .*send:daily-2025-12-11.*process 999 on mail-host-b/,
    );
    expect(forced.code, forced.stderr).toBe(0);
    expect((JSON.parse(forced.stdout) as { forced: { host: string }[] }).forced[0]!.host).toBe('mail-host-b');
    expect(byWorker.code).toBe(1);
    expect(byWorker.stderr).toMatch(
      /STORE_COPY_SEND_RUNNING: .*send:daily-2025-12-10.*worker mail-host-c\.31337/,
    );
  });

  it('refuses the same store on both sides, an unreachable server and stores at different versions', async () => {
    const old = join(dir, 'old.db');
    const o = new Database(old);
    for (const m of migrations.slice(0, -1)) o.exec(m);
    o.pragma(`user_version = ${migrations.length - 1}`);
    o.close();
    const alias = pgA.url.replace('127.0.0.1', 'localhost');
    const [sameFile, samePg, unreachable, versions] = await Promise.all([
      copy(['--from', src, '--to', `sqlite:./${relative(dir, src)}`]),
      copy(['--from', pgA.url, '--to', alias]),
      copy(['--from', src, '--to', 'postgres://postgres@127.0.0.1:1/nowhere']),
      copy(['--from', old, '--to', pgB.url]),
    ]);
    expect(sameFile.code).toBe(2);
    expect(sameFile.stderr).toMatch(/STORE_COPY_SAME/);
    expect(samePg.code).toBe(2);
    expect(samePg.stderr).toMatch(/STORE_COPY_SAME/);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/STORE_PG_UNREACHABLE/);
    expect(versions.code).toBe(2);
    expect(versions.stderr).toMatch(
      new RegExp(
        `STORE_COPY_VERSION_MISMATCH: .*old\\.db is at schema version ${migrations.length - 1} .*at ${migrations.length}`,
      ),
    );
    // The refused copy wrote nothing.
    const c = new pg.Client({ connectionString: pgB.url });
    await c.connect();
    try {
      expect(Number((await c.query('SELECT count(*) AS n FROM subscribers')).rows[0].n)).toBe(0);
    } finally {
      await c.end();
    }
  });
});
