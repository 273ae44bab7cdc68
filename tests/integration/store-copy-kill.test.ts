import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { run, start } from '../helpers/daemon.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';
import { addSubscribers, FIXTURE, fillStore } from '../helpers/store-fixture.ts';

// Issue 17: the target of `broadsheet store copy` is written in one
// transaction. A copy SIGKILLed while it writes a big table leaves the target
// empty, and the next copy into it needs no --replace and succeeds.

const pgOk = await needsPostgres();
const READERS = 50_000;

async function rowsIn(url: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (
      await c.query<{ t: string }>(
        "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'broadsheet_schema' ORDER BY 1",
      )
    ).rows.map((r) => r.t);
    const out: Record<string, number> = {};
    for (const t of tables) out[t] = Number((await c.query(`SELECT count(*) AS n FROM "${t}"`)).rows[0].n);
    return out;
  } finally {
    await c.end();
  }
}

describe.skipIf(!pgOk)('store copy killed midway', () => {
  let dir: string;
  let target: PgTestDb;
  let src: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bs-copy-kill-'));
    target = await freshPgDatabase();
    src = join(dir, 'big.db');
    const db = openStore(src);
    fillStore(db);
    addSubscribers(db, READERS);
    db.close();
  });
  afterAll(async () => {
    await target?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves the PostgreSQL target empty (all or nothing), and a new copy then succeeds', async () => {
    const p = start(['store', 'copy', '--from', src, '--to', target.url], { cwd: dir });
    // Progress lines come every tenth of a big table: the first one means the
    // copy is inside its write transaction, in the middle of subscribers.
    const line = await Promise.race([
      p.waitLine(/^store copy: subscribers \d+\/\d+/),
      p.exited.then(() => undefined),
    ]);
    expect(line, 'the copy ended before its first progress line').toBeDefined();
    expect(Number(line!.done)).toBeLessThan(Number(line!.total));
    p.child.kill('SIGKILL');
    expect(await p.exited).toBeNull();

    const after = await rowsIn(target.url);
    expect(Object.keys(after).length).toBeGreaterThan(15); // migrated before the copy began
    expect(Object.entries(after).filter(([, n]) => n > 0)).toEqual([]);

    const again = await run(['store', 'copy', '--from', src, '--to', target.url, '--json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    const out = JSON.parse(again.stdout) as { tables: { table: string; rows: number }[] };
    expect(out.tables.find((t) => t.table === 'subscribers')!.rows).toBe(
      READERS + FIXTURE.subscribers!.length,
    );
    expect((await rowsIn(target.url)).subscribers).toBe(READERS + FIXTURE.subscribers!.length);
  });
});
