// `broadsheet editors …` on a PostgreSQL store (issue 17): the same commands
// as on SQLite, against a real PostgreSQL — accounts with case-insensitive
// names, the first account ending bootstrap sessions, the last-admin guard,
// passwd and remove ending sessions, and two hosts adding the same name at
// once (one wins, one gets EDITOR_EXISTS).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeBackend, openBackend } from '../../src/store/backend.ts';
import { PgSessions } from '../../src/store/pg/sessions.ts';
import { BIN, ROOT } from '../helpers/cli.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';
import { STORE_CONFIG } from '../helpers/stores.ts';

const pgOk = await needsPostgres();
let db: PgTestDb;
let dir: string;

function editors(a: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, 'editors', ...a, '--config', join(dir, 'broadsheet.config.yaml'), '--store', db.url],
      {
        cwd: ROOT,
        env: { ...process.env, BROADSHEET_SECRET: 'editors-pg', DEBUG: '', LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 120_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}
const PW = 'a long enough passphrase';

describe.skipIf(!pgOk)('editors CLI on PostgreSQL', () => {
  beforeAll(async () => {
    db = await freshPgDatabase();
    dir = mkdtempSync(join(tmpdir(), 'bs-editors-pg-'));
    writeFileSync(join(dir, 'broadsheet.config.yaml'), '{}\n');
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the first account is admin and ends bootstrap sessions; names are unique in any case', async () => {
    const b = await openBackend({ kind: 'postgres', url: db.url }, STORE_CONFIG);
    try {
      if (b.kind !== 'postgres') throw new Error('expected postgres');
      await new PgSessions(b.pool).create({
        id: 'bootstrap001',
        verifierHash: 'ab'.repeat(32),
        editorId: null,
        editorName: '值班',
        role: 'admin',
        bootstrapTag: 'tag',
        ipHash: null,
        userAgent: null,
        ttlMs: 3_600_000,
      });
    } finally {
      await closeBackend(b);
    }
    const first = await editors(['add', '編輯甲', '--password-stdin', '--json'], PW);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ name: '編輯甲', role: 'admin', bootstrapSessionsEnded: 1 });
    expect((await editors(['add', 'Bob', '--password-stdin'], PW)).code).toBe(0);
    const dup = await editors(['add', 'BOB', '--password-stdin'], PW);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('EDITOR_EXISTS');
    const list = JSON.parse((await editors(['list', '--json'])).stdout) as { name: string; role: string }[];
    expect(list.map((a) => [a.name, a.role]).sort()).toEqual([
      ['Bob', 'editor'],
      ['編輯甲', 'admin'],
    ]);
  });

  it('the last admin cannot be demoted or removed while others exist; role and remove work', async () => {
    const demote = await editors(['role', '編輯甲', 'editor']);
    expect(demote.code).not.toBe(0);
    expect(demote.stderr).toContain('EDITOR_LAST_ADMIN');
    expect((await editors(['remove', '編輯甲'])).stderr).toContain('EDITOR_LAST_ADMIN');
    expect((await editors(['role', 'bob', 'admin'])).code).toBe(0);
    expect((await editors(['remove', '編輯甲', '--json'])).code).toBe(0);
    const list = JSON.parse((await editors(['list', '--json'])).stdout) as { name: string; role: string }[];
    expect(list).toMatchObject([{ name: 'Bob', role: 'admin' }]);
    const passwd = await editors(['passwd', 'bob', '--password-stdin', '--json'], 'another long passphrase');
    expect(passwd.code).toBe(0);
    expect(JSON.parse(passwd.stdout)).toEqual({ name: 'Bob', sessionsEnded: 0 });
    expect((await editors(['revoke', 'nosuchsess12'])).stderr).toContain('SESSION_UNKNOWN');
  });

  it('two hosts adding the same name at once: exactly one account', async () => {
    const [a, b] = await Promise.all([
      editors(['add', 'Carol', '--password-stdin'], PW),
      editors(['add', 'carol', '--password-stdin'], PW),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 2]);
    const list = JSON.parse((await editors(['list', '--json'])).stdout) as { name: string }[];
    expect(list.filter((x) => x.name.toLowerCase() === 'carol')).toHaveLength(1);
  });
});
