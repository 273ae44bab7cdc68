import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { named } from '../../src/cli/app.ts';
import { isBroadsheetError } from '../../src/errors/index.ts';
import { openStore } from '../../src/store/index.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';

// The CLI's last line of defence: a raw SQLite or file-system error that no
// stage named still ends with a catalog code and the path, never a bare code.
describe('cli: faults no stage named', () => {
  it('an SQLite error after the store opened names the store file (STORE_CORRUPT)', async () => {
    const file = join(tempDir('bs-named-'), 'data', 'b.db');
    const db = openStore(file);
    db.exec('CREATE TABLE filler (x TEXT)');
    const fill = db.prepare('INSERT INTO filler VALUES (?)');
    for (let i = 0; i < 200; i++) fill.run('x'.repeat(1000));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    // Damage the file under a process that already opened it once.
    const size = readFileSync(file).length;
    truncateSync(file, Math.floor(size / 3));
    let raw: unknown;
    try {
      new Database(file).prepare('SELECT count(*) FROM filler').get();
    } catch (err) {
      raw = err;
    }
    expect((raw as { code?: string }).code).toMatch(/^SQLITE_/);
    const err = await named(raw);
    expect(isBroadsheetError(err) && err.code).toBe('STORE_CORRUPT');
    expect((err as Error).message).toContain('b.db');
  });

  it('a file-system error with a path gets its catalog code; others pass through unchanged', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      path: '/tmp/out/x.png',
    });
    // A real errno error from Node for the pass-through case.
    const dir = tempDir('bs-named-');
    writeFileSync(join(dir, 'f'), '');
    let enotdir: unknown;
    try {
      writeFileSync(join(dir, 'f', 'g'), '');
    } catch (e) {
      enotdir = e;
    }
    const full = await named(enospc);
    expect(isBroadsheetError(full) && full.code).toBe('FS_DISK_FULL');
    expect(await named(enotdir)).toBe(enotdir);
    const plain = new Error('plain');
    expect(await named(plain)).toBe(plain);
  });
});
