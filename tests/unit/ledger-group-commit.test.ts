import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger, openStore, SubscriberRepo } from '../../src/store/index.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';

// Group commit (issue 16, send): a send's Ledger writes every `committed` mark
// asked for in one event-loop turn in one transaction at the end of the turn;
// the caller writes the "." only once its promise settles.

const ED = 'daily-2025-12-10';

function world(n: number) {
  const file = join(tempDir('bs-group-'), 'b.db');
  const db = openStore(file);
  new SubscriberRepo(db).upsertMany(
    Array.from({ length: n }, (_, i) => ({ email: `r${i}@example.com` })),
    't',
  );
  const ledger = new Ledger(db, undefined, { groupCommit: true });
  ledger.enqueue(ED, 'example.com');
  const ids = ledger.pending(ED).map((r) => r.subscriberId);
  // Another connection sees only what was committed to the file.
  const other = openStore(file);
  const stateOf = (id: number) =>
    other.prepare('SELECT state FROM sends WHERE edition = ? AND subscriber_id = ?').pluck().get(ED, id);
  const states = () => ids.map(stateOf);
  return { db, ledger, ids, stateOf, states, other };
}

describe('SQLite group commit', () => {
  it('marks asked for in one turn are written together at its end, then their promises settle', async () => {
    const w = world(4);
    const marks = w.ids.slice(0, 3).map((id) => w.ledger.markCommitted(ED, id, 'smtp'));
    for (const m of marks) expect(m).toBeInstanceOf(Promise);
    // Nothing written yet: the "."s may not go out before the transaction.
    expect(w.states()).toEqual(['queued', 'queued', 'queued', 'queued']);
    let settledAt: unknown[] | undefined;
    void Promise.all(marks).then(() => {
      settledAt = w.states();
    });
    expect(await Promise.all(marks)).toEqual([true, true, true]);
    // When the callers were told, all three were on disk.
    expect(settledAt).toEqual(['committed', 'committed', 'committed', 'queued']);
    // One transaction: a reader between the writes could never see one without the others.
    expect(w.ledger.counts(ED)).toMatchObject({ committed: 3, queued: 1 });
  });

  it("each caller's marker is written right after the COMMIT, all of them before any promise settles", async () => {
    const w = world(3);
    const log: string[] = [];
    const marks = w.ids.map((id, i) =>
      (
        w.ledger.markCommitted(ED, id, 'smtp', () => {
          // On disk already, for every row of the turn, when the first marker goes out.
          log.push(`marker ${i}: ${w.states().join(',')}`);
        }) as Promise<boolean>
      ).then(() => log.push(`settled ${i}`)),
    );
    expect(log).toEqual([]);
    await Promise.all(marks);
    const all = 'committed,committed,committed';
    expect(log).toEqual([
      `marker 0: ${all}`,
      `marker 1: ${all}`,
      `marker 2: ${all}`,
      'settled 0',
      'settled 1',
      'settled 2',
    ]);
  });

  it('a row committed and answered in the same turn ends sent, and a read writes what is waiting', async () => {
    const w = world(2);
    const [a, b] = w.ids as [number, number];
    const ca = w.ledger.markCommitted(ED, a, 'smtp');
    w.ledger.markSent(ED, a, '250 ok');
    const cb = w.ledger.markCommitted(ED, b, 'smtp');
    // A read flushes first: both marks are written now, in order.
    expect(w.ledger.counts(ED)).toMatchObject({ sent: 1, committed: 1 });
    expect(w.stateOf(a)).toBe('sent');
    expect(await ca).toBe(true);
    expect(await cb).toBe(true);
  });

  it('a transaction that fails tells every waiting caller and writes none of them; sent marks wait for the next', async () => {
    const w = world(3);
    const [a, b, c] = w.ids as [number, number, number];
    await w.ledger.markCommitted(ED, a, 'smtp');
    w.ledger.markSent(ED, a, '250 ok');
    // The store refuses the write of b's mark (as a full disk or a constraint would).
    w.other.exec(
      `CREATE TRIGGER refuse BEFORE UPDATE OF state ON sends WHEN NEW.subscriber_id = ${b} AND NEW.state = 'committed'
       BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
    );
    const markers: number[] = [];
    const results = await Promise.allSettled([
      w.ledger.markCommitted(ED, b, 'smtp', () => markers.push(b)),
      w.ledger.markCommitted(ED, c, 'smtp', () => markers.push(c)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // No marker for a mark that was not written.
    expect(markers).toEqual([]);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/refused by the test/);
    // All or nothing: c was not written either, and a's sent mark is still waiting.
    expect([w.stateOf(a), w.stateOf(b), w.stateOf(c)]).toEqual(['committed', 'queued', 'queued']);
    w.other.exec('DROP TRIGGER refuse');
    expect(w.ledger.counts(ED)).toMatchObject({ sent: 1, queued: 2 });
    expect(await w.ledger.markCommitted(ED, c, 'smtp')).toBe(true);
    expect(w.stateOf(c)).toBe('committed');
  });

  it('without group commit, markCommitted writes at once and returns true', () => {
    const file = join(tempDir('bs-group-'), 'b.db');
    const db = openStore(file);
    new SubscriberRepo(db).upsert({ email: 'x@example.com' }, 't');
    const ledger = new Ledger(db);
    ledger.enqueue(ED, 'example.com');
    const [r] = ledger.pending(ED);
    expect(ledger.markCommitted(ED, r!.subscriberId, 'smtp')).toBe(true);
    expect(ledger.counts(ED).committed).toBe(1);
  });
});
