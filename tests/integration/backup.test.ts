import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from '../helpers/cli.ts';

// `broadsheet backup` through the real CLI, while another process keeps
// writing to the store: the copy is a consistent snapshot that passes
// integrity_check, the writer is never blocked, and an existing file is only
// replaced with --force.

const dir = mkdtempSync(join(tmpdir(), 'bs-backup-'));
const store = join(dir, 'data', 'broadsheet.db');
const env = { BROADSHEET_SECRET: 'test-secret-for-tokens-0123456789' };
const run = (args: string[]) => cli([...args, '--store', store], { env });

// The writer commits two readers per transaction, so any consistent snapshot
// holds an even number of its rows; a torn copy could hold an odd one.
const WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('busy_timeout = 5000');
const ins = db.prepare("INSERT INTO subscribers (email, topics, created_at, updated_at) VALUES (?, '[]', 'now', 'now')");
const pair = db.transaction((i) => { ins.run('w' + i + 'a@example.com'); ins.run('w' + i + 'b@example.com'); });
let i = 0;
const tick = () => {
  for (let k = 0; k < 50; k++) pair(i++);
  if (i === 50) process.stdout.write('writing\\n');
  if (stop) { process.stdout.write('pairs ' + i + '\\n'); db.close(); process.stdin.destroy(); return; }
  setImmediate(tick);
};
let stop = false;
process.stdin.on('data', () => { stop = true; });
tick();
`;

let writer: ChildProcess | undefined;
afterAll(() => writer?.kill());

describe('broadsheet backup', () => {
  it('copies the store while another process writes: integrity ok, a consistent snapshot', async () => {
    expect(run(['subscribers', 'add', 'first@example.com']).code).toBe(0);
    writer = spawn(process.execPath, ['-e', WRITER, store], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    writer.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise<void>((res) => {
      const check = () => (out.includes('writing') ? res() : setTimeout(check, 20));
      check();
    });

    const file = join(dir, 'backups', 'one.db');
    const r = run(['backup', file, '--json']);
    writer.stdin!.end('stop\n');
    const code = await new Promise<number | null>((res) => writer!.on('exit', res));
    expect(code).toBe(0);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { bytes: number; rows: Record<string, number> };
    const pairs = Number(/pairs (\d+)/.exec(out)![1]);

    const copy = new Database(file, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      const n = (
        copy.prepare("SELECT count(*) AS n FROM subscribers WHERE email LIKE 'w%'").get() as { n: number }
      ).n;
      expect(n % 2).toBe(0);
      expect(n).toBeGreaterThanOrEqual(100);
      // The writer went on after the copy was taken: the store has more than the copy.
      expect(pairs * 2).toBeGreaterThan(n);
      expect(report.rows.subscribers).toBe(n + 1);
      expect(
        copy.prepare("SELECT email FROM subscribers WHERE email = 'first@example.com'").get(),
      ).toBeTruthy();
    } finally {
      copy.close();
    }
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(report.bytes).toBeGreaterThan(0);
  }, 120_000);

  it('refuses to replace an existing file without --force (exit 2), replaces it with --force', () => {
    const file = join(dir, 'exists.db');
    writeFileSync(file, 'keep me');
    const r = run(['backup', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error BACKUP_EXISTS');
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    const f = run(['backup', file, '--force']);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/backed up .* → .*exists\.db \([\d,]+ bytes/);
    const copy = new Database(file, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    copy.close();
  });

  it('names a missing store (exit 2) and leaves no file behind', () => {
    const file = join(dir, 'never.db');
    const r = cli(['backup', file, '--store', join(dir, 'nope.db')], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error STORE_MISSING');
    expect(existsSync(file)).toBe(false);
  });

  it('a restored copy opens as the store, data intact', () => {
    const file = join(dir, 'restore-me.db');
    expect(run(['backup', file]).code).toBe(0);
    // Restore as the README says: copy the backup over the store file (no -wal/-shm beside it).
    const restored = join(dir, 'restored', 'broadsheet.db');
    mkdirSync(join(dir, 'restored'));
    copyFileSync(file, restored);
    const r = cli(['subscribers', 'add', 'after-restore@example.com', '--store', restored], { env });
    expect(r.code, r.stderr).toBe(0);
    const count = (f: string) => {
      const db = new Database(f, { readonly: true });
      const n = (db.prepare('SELECT count(*) AS n FROM subscribers').get() as { n: number }).n;
      db.close();
      return n;
    };
    expect(count(restored)).toBe(count(store) + 1);
  });
});
