import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';

// `broadsheet subscribers …` on a PostgreSQL store (issue 17): the same
// commands give the same output, errors and exit codes as on the SQLite file;
// a failed import leaves nothing half-written.

const pgOk = await needsPostgres();
const env = { BROADSHEET_SECRET: 'test-secret-for-tokens-0123456789' };

describe.skipIf(!pgOk)('subscribers on PostgreSQL, compared with SQLite', () => {
  let db: PgTestDb;
  let dir: string;
  beforeAll(async () => {
    db = await freshPgDatabase();
    dir = mkdtempSync(join(tmpdir(), 'bs-subs-pg-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Run on one store; the store's own address and log lines (times) are left out. */
  const run = (store: string, args: string[]) => {
    const r = cli(['--store', store, ...args], { env });
    const clean = (t: string) =>
      t
        .split('\n')
        .filter((l) => !l.startsWith('{"level"'))
        .join('\n')
        .replaceAll(store, '<store>')
        .replace(/"(exportedAt|createdAt|updatedAt|statusAt|signupAt|at)": "[^"]+"/g, '"$1": "<t>"')
        // Unsubscribe tokens are sealed with a fresh nonce each time.
        .replace(/\/u\/v2\.[\w-]+/g, '/u/<token>');
    return { code: r.code, stdout: clean(r.stdout), stderr: clean(r.stderr) };
  };

  /** Each command on the SQLite file and on PostgreSQL: the same exit code, stdout and stderr. */
  const same = (steps: string[][]) => {
    for (const args of steps) {
      const a = run(join(dir, 'b.db'), args);
      expect({ args, ...run(db.url, args) }).toEqual({ args, ...a });
    }
  };

  it('import (bad rows, duplicates, an unsupported locale), then again: the same reports and counts', () => {
    const csv = join(dir, 'readers.csv');
    writeFileSync(
      csv,
      [
        'email,name,locale,topics',
        'Chan.TaiMan@example.com,陳大文,zh-Hant-HK,要聞;科技',
        'wong@example.com,"Wong, Ka Ming",zh-Hans,',
        'not-an-address,Nobody,,',
        'fr@example.com,Français,fr-FR,科技',
        'chan.taiman@example.com,Again,,',
        'lee@example.com,李小龍,,',
        '',
      ].join('\n'),
    );
    same([
      ['subscribers', 'import', csv],
      ['subscribers', 'import', csv, '--json'],
    ]);
    expect(run(db.url, ['subscribers', 'list']).stdout).toMatch(/^chan\.taiman@example\.com\tactive\t陳大文/);
  });

  it('add, remove and list: the same output and errors', () => {
    same([
      ['subscribers', 'add', 'new@example.com', '--name', '新讀者', '--topics', 'a;b'],
      ['subscribers', 'add', 'broken'],
      ['subscribers', 'remove', 'wong@example.com', '--status', 'bounced'],
      ['subscribers', 'remove', 'nobody@example.com'],
      ['subscribers', 'list'],
      ['subscribers', 'list', '--status', 'active', '--json'],
    ]);
    expect(run(db.url, ['subscribers', 'list']).stdout).toContain('wong@example.com\tbounced\tWong, Ka Ming');
  });

  it('export, forget, and a forgotten address kept out of add and import: the same output and errors', () => {
    const csv = join(dir, 'readers.csv');
    same([
      ['subscribers', 'export', 'chan.taiman@example.com'],
      ['subscribers', 'export', 'nobody@example.com'],
      ['subscribers', 'forget', 'lee@example.com'],
      ['subscribers', 'forget', 'lee@example.com'],
      ['subscribers', 'add', 'lee@example.com'],
      ['subscribers', 'import', csv],
      ['subscribers', 'list', '--all'],
    ]);
    const last = run(db.url, ['subscribers', 'list', '--all']).stdout;
    expect(last).toContain('erased-4@invalid\tunsubscribed');
    expect(last).toMatch(/5 subscriber\(s\)/);
    expect(run(db.url, ['subscribers', 'add', 'lee@example.com']).stderr).toContain('SUBSCRIBER_SUPPRESSED');
  });

  it('a failed import leaves nothing half-written: an error in its last chunk rolls back the first', async () => {
    const store = (await freshPgDatabase('bs_test_fail')) as PgTestDb;
    try {
      const c = new pg.Client({ connectionString: store.url });
      await c.connect();
      try {
        expect(run(store.url, ['subscribers', 'add', 'kept@example.com']).code).toBe(0);
        // A real failure inside PostgreSQL on row 11,000 (the third chunk), after the first two are written.
        await c.query(`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.email = 'r11000@example.com' THEN RAISE EXCEPTION 'disk quota exceeded (test)'; END IF; RETURN NEW; END $$`);
        await c.query(
          'CREATE TRIGGER boom BEFORE INSERT ON subscribers FOR EACH ROW EXECUTE FUNCTION boom()',
        );
        const csv = join(dir, 'big.csv');
        const rows = Array.from({ length: 12_000 }, (_, i) => `r${i}@example.com,R${i},,`);
        writeFileSync(csv, `email,name,locale,topics\n${rows.join('\n')}\n`);
        const r = run(store.url, ['subscribers', 'import', csv]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/STORE_PG_FAILED[\s\S]*disk quota exceeded \(test\)/);
        const n = await c.query(
          'SELECT (SELECT count(*) FROM subscribers) AS s, (SELECT count(*) FROM consent) AS c',
        );
        expect(n.rows[0]).toEqual({ s: '1', c: '1' });
      } finally {
        await c.end();
      }
    } finally {
      await store.drop();
    }
  });

  it('an unreachable PostgreSQL store fails at once with its catalog code', () => {
    const r = run('postgres://postgres@127.0.0.1:1/none', ['subscribers', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STORE_PG_UNREACHABLE');
  });
});
