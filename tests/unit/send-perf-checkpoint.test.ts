import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sendEdition } from '../../src/delivery/send.ts';
import type { Transport } from '../../src/delivery/transport.ts';
import { Ledger, openStore, SubscriberRepo } from '../../src/store/index.ts';
import { checkpointInWorker } from '../../src/store/ledger-checkpoint.ts';
import { digest, EDITION, tempDir, testContext } from '../fixtures/delivery/ctx.ts';

// A long send's WAL checkpoints run in a worker thread (src/store/ledger-checkpoint.ts):
// the sending connection's automatic checkpoint is off meanwhile and comes back after.

const autocheckpoint = (db: ReturnType<typeof openStore>) =>
  Number(db.pragma('wal_autocheckpoint', { simple: true }));

async function roundsPast(cp: { rounds: number }, n: number) {
  const want = cp.rounds + n;
  while (cp.rounds < want) await new Promise((r) => setTimeout(r, 5));
}

describe('checkpointInWorker', () => {
  it('turns the automatic checkpoint off while it runs, keeps the WAL bounded, restores the setting', async () => {
    const dir = tempDir('bs-ckpt-');
    const db = openStore(join(dir, 'store.db'));
    db.pragma('wal_autocheckpoint = 777');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const cp = checkpointInWorker(db, { everyMs: 5, minChanges: 100, finishEvery: 1 })!;
    expect(await cp.ready).toBe(true);
    expect(autocheckpoint(db)).toBe(0);
    const batch = () => {
      // One commit per row, as a send does; ~1.2 MB of WAL per batch.
      for (let i = 0; i < 300; i++) insert.run('x'.repeat(2000));
    };
    const wal = () => statSync(join(dir, 'store.db-wal')).size;
    batch();
    const oneBatch = wal();
    for (let k = 0; k < 4; k++) {
      await roundsPast(cp, 1);
      batch();
    }
    // Without checkpoints the WAL would hold all five batches; it starts over after each round.
    expect(wal()).toBeLessThan(2 * oneBatch);
    await cp.stop();
    expect(autocheckpoint(db)).toBe(777);
    // The send is over: what was left is copied and the WAL file cut back.
    expect(wal()).toBe(0);
    // Every commit is there, seen from another connection.
    const other = openStore(join(dir, 'store.db'));
    expect(other.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1500);
    other.close();
    db.close();
  });

  it('leaves an in-memory store, or one whose automatic checkpoint is already off, alone', () => {
    const mem = openStore(':memory:');
    expect(checkpointInWorker(mem)).toBeUndefined();
    mem.close();
    const db = openStore(join(tempDir('bs-ckpt-'), 'store.db'));
    db.pragma('wal_autocheckpoint = 0');
    expect(checkpointInWorker(db)).toBeUndefined();
    expect(autocheckpoint(db)).toBe(0);
    db.close();
  });

  it('stop() right away (before the worker is ready) still restores the setting', async () => {
    const db = openStore(join(tempDir('bs-ckpt-'), 'store.db'));
    const before = autocheckpoint(db);
    const cp = checkpointInWorker(db)!;
    await cp.stop();
    expect(autocheckpoint(db)).toBe(before);
    db.close();
  });
});

describe('a send long enough to checkpoint in a worker', () => {
  it('sends every message once and gives the connection its automatic checkpoint back', async () => {
    const ctx = testContext(tempDir('bs-ckpt-send-'));
    const db = openStore(ctx.paths.store);
    const before = autocheckpoint(db);
    const N = 600;
    new SubscriberRepo(db).upsertMany(
      Array.from({ length: N }, (_, i) => ({ email: `reader${i}@example.com` })),
      'test',
    );
    const seen = new Map<string, number>();
    let offDuringSend = false;
    const transport: Transport = {
      name: 'counting',
      async send(msg) {
        if (autocheckpoint(db) === 0) offDuringSend = true;
        msg.commit();
        seen.set(msg.recipient, (seen.get(msg.recipient) ?? 0) + 1);
        await new Promise((r) => setImmediate(r));
        return { accepted: [msg.recipient], rejected: [], response: '250 ok', messageId: msg.messageId };
      },
    };
    const s = await sendEdition(
      ctx,
      db,
      { editionId: EDITION, list: 'daily', listName: 'Daily', digest },
      { transport },
    );
    expect(s.sent).toBe(N);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(seen.size).toBe(N);
    expect(new Ledger(db).counts(EDITION)).toMatchObject({ sent: N, committed: 0, queued: 0 });
    expect(autocheckpoint(db)).toBe(before);
    // Off once the worker was ready (tens of ms into a send that takes hundreds).
    expect(offDuringSend).toBe(true);
    expect(before).toBeGreaterThan(0);
    db.close();
  });
});
