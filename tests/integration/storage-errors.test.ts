import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BIN, cli, ROOT } from '../helpers/cli.ts';
import { fewCardsConfig } from '../helpers/few-cards.ts';
import { inPrivateMounts, needsPrivateMounts } from '../helpers/mounts.ts';
import { needs } from '../helpers/system.ts';

// Storage and file-system faults through the real CLI, each produced for real:
// a read-only bind mount, a 16 KB tmpfs, a folder the (unprivileged) user may
// not write, a text file and random bytes given as the store. Each ends with
// its catalog code, the path, exit 1 (2 for a store that is not a store), and
// nothing half-written.

const env = { BROADSHEET_SECRET: 'test-secret-for-tokens-0123456789' };
const base = mkdtempSync(join(tmpdir(), 'bs-storage-'));
chmodSync(base, 0o755);
const fresh = (name: string) => {
  const d = join(base, name);
  mkdirSync(d, { recursive: true });
  return d;
};
const node = [process.execPath, BIN];
// Few cards: these builds are about where the output lands, not the cards.
const config = fewCardsConfig(base);

describe.skipIf(!needsPrivateMounts())('output folder faults (private mounts)', () => {
  it('build --out on a read-only mount: FS_READ_ONLY naming the path, exit 1, nothing written', () => {
    const dir = fresh('ro');
    writeFileSync(join(dir, 'keep.txt'), 'already here\n');
    const r = inPrivateMounts(
      'mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"',
      [dir],
      [...node, 'build', '--config', config, '--out', join(dir, 'out'), '--store', join(base, 'ro.db')],
      { cwd: ROOT, env },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('error FS_READ_ONLY');
    expect(r.stderr).toContain(join(dir, 'out'));
    expect(r.stderr).toMatch(/^hint: .*--out/m);
    expect(readdirSync(dir)).toEqual(['keep.txt']);
  }, 120_000);

  it('build --out on a full disk: FS_DISK_FULL naming the path, exit 1, no temp or partial file left', () => {
    const dir = fresh('full');
    const listing = join(base, 'full-listing.txt');
    const r = inPrivateMounts(
      'mount -t tmpfs -o size=16k tmpfs "$1"',
      [dir, listing],
      [...node, 'build', '--config', config, '--out', join(dir, 'out'), '--store', join(base, 'full.db')],
      { cwd: ROOT, env, after: 'find "$A_1" -type f > "$A_2"; df -k "$A_1" >> "$A_2"' },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('error FS_DISK_FULL');
    expect(r.stderr).toMatch(/cannot write \S+\/out\/daily-2025-12-10\/digest\/index\.html/);
    const files = readFileSync(listing, 'utf8');
    // The digest did not fit: neither it nor its temp file is left behind.
    expect(files).not.toMatch(/\.tmp$/m);
    expect(files).not.toContain('index.html');
    expect(files).toContain('tmpfs');
  }, 120_000);

  it('send through the outbox onto a full disk: stops at once with FS_DISK_FULL; the next run sends only the rest', () => {
    const dir = fresh('send-full');
    const out = join(dir, 'out');
    const store = join(dir, 'db.sqlite');
    const csv = join(dir, 'readers.csv');
    writeFileSync(
      csv,
      [
        'email,name,locale,topics',
        ...Array.from({ length: 120 }, (_, i) => `r${i}@example.org,讀者${i},,`),
      ].join('\n'),
    );
    expect(cli(['build', '--config', config, '--out', out, '--store', store], { env }).code).toBe(0);
    expect(cli(['subscribers', 'import', csv, '--store', store], { env }).code).toBe(0);
    const outbox = join(out, 'daily-2025-12-10', 'outbox');
    mkdirSync(outbox);
    const listing = join(dir, 'listing.txt');
    const r = inPrivateMounts(
      // Room for a few messages (each is tens of KB), not for 120.
      'mount -t tmpfs -o size=320k tmpfs "$1"',
      [outbox, listing],
      [...node, 'send', '--transport', 'outbox', '--out', out, '--store', store],
      { cwd: ROOT, env, after: 'ls -a "$A_1" > "$A_2"' },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('error FS_DISK_FULL');
    expect(r.stderr).toContain(outbox);
    // Stopped at the first failure, not after retrying each reader.
    expect(r.stderr).not.toContain('transient failure');
    const written = readFileSync(listing, 'utf8')
      .split('\n')
      .filter((f) => f.endsWith('.eml'));
    expect(readFileSync(listing, 'utf8')).not.toMatch(/\.tmp$/m);
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThan(120);
    // Space back (the tmpfs is gone): the next run delivers exactly the rest.
    const again = cli(['send', '--transport', 'outbox', '--out', out, '--store', store], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toMatch(new RegExp(`sent ${120 - written.length}\\b`));
    expect(readdirSync(outbox).filter((f) => f.endsWith('.eml'))).toHaveLength(120 - written.length);
  }, 180_000);

  it('a store whose folder is a read-only mount: STORE_NOT_WRITABLE, exit 1, the store untouched', () => {
    const dir = fresh('store-ro');
    const store = join(dir, 'db.sqlite');
    expect(cli(['subscribers', 'add', 'a@example.com', '--store', store], { env }).code).toBe(0);
    const before = readFileSync(store);
    const r = inPrivateMounts(
      'mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"',
      [dir],
      [...node, 'subscribers', 'add', 'b@example.com', '--store', store],
      { cwd: ROOT, env },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('error STORE_NOT_WRITABLE');
    expect(r.stderr).toContain(store);
    expect(readFileSync(store).equals(before)).toBe(true);
  }, 120_000);

  it('a store on a full disk: FS_DISK_FULL naming the store, exit 1', () => {
    const dir = fresh('store-full');
    const r = inPrivateMounts(
      'mount -t tmpfs -o size=16k tmpfs "$1"',
      [dir],
      [...node, 'subscribers', 'add', 'a@example.com', '--store', join(dir, 'db.sqlite')],
      { cwd: ROOT, env },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('error FS_DISK_FULL');
    expect(r.stderr).toContain(join(dir, 'db.sqlite'));
  }, 120_000);
});

// Root ignores mode bits, so the CLI runs as "nobody" (setpriv) against a 0555
// folder; an unprivileged test user is stopped by the mode bits themselves.
const asRoot = process.getuid?.() === 0;
describe.skipIf(asRoot && !needs('setpriv', 'util-linux'))('permission denied', () => {
  it('build --out in a folder the user may not write: FS_PERMISSION naming the path, exit 1', () => {
    const dir = fresh('locked');
    chmodSync(dir, 0o555);
    const args = [
      'build',
      '--config',
      config,
      '--out',
      join(dir, 'out'),
      '--store',
      join(fresh('locked-store'), 'db.sqlite'),
    ];
    chmodSync(join(base, 'locked-store'), 0o777);
    const cmd = asRoot
      ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...node, ...args]
      : [...node, ...args];
    const r = spawnSync(cmd[0]!, cmd.slice(1), {
      cwd: ROOT,
      env: { ...process.env, ...env, DEBUG: '' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain('error FS_PERMISSION');
    expect(r.stderr).toContain(join(dir, 'out'));
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);
});

describe('a store that is not a store', () => {
  it.each([
    ['a text file', Buffer.from('email,name\nreader@example.com,Reader\n')],
    ['random bytes', randomBytes(8192)],
  ])('%s as --store: STORE_CORRUPT with the restore hint, exit 2, the file untouched', (_what, bytes) => {
    const file = join(fresh('corrupt'), `${randomBytes(4).toString('hex')}.db`);
    writeFileSync(file, bytes);
    const r = cli(['subscribers', 'list', '--store', file], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error STORE_CORRUPT');
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/^hint: .*restore .*broadsheet backup/m);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('a real store with damaged pages: STORE_CORRUPT from status (exit 2), and backup refuses to copy it', () => {
    const dir = fresh('damaged');
    const store = join(dir, 'db.sqlite');
    // A migrated store with enough rows to span many pages, then cut in half.
    expect(cli(['subscribers', 'add', 'a@example.com', '--store', store], { env }).code).toBe(0);
    const fill = new Database(store);
    const ins = fill.prepare(
      "INSERT INTO subscribers (email, topics, created_at, updated_at) VALUES (?, '[]', 'now', 'now')",
    );
    fill.transaction(() => {
      for (let i = 0; i < 5000; i++) ins.run(`r${i}@example.com`);
    })();
    fill.pragma('wal_checkpoint(TRUNCATE)');
    fill.close();
    truncateSync(store, Math.floor(statSync(store).size / 2));

    const s = cli(['status', '--store', store], { env });
    expect(s.code, s.stderr).toBe(2);
    expect(s.stderr).toContain('error STORE_CORRUPT');
    const target = join(dir, 'copy.db');
    const b = cli(['backup', target, '--store', store], { env });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('error STORE_CORRUPT');
    expect(readdirSync(dir).filter((f) => f.startsWith('.') || f.startsWith('copy'))).toEqual([]);
  });

  it("another program's SQLite database: STORE_CORRUPT, not migrated into", () => {
    const file = join(fresh('foreign'), 'other.db');
    const db = new Database(file);
    db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
    db.close();
    const r = cli(['subscribers', 'list', '--store', file], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error STORE_CORRUPT');
    const after = new Database(file, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([
      { name: 'notes' },
    ]);
    after.close();
  });
});
