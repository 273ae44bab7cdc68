import { describe, expect, it } from 'vitest';
import { sendEdition, summaryOfStopped } from '../../src/delivery/send.ts';
import type { DeliveryResult, OutgoingMessage, Transport } from '../../src/delivery/transport.ts';
import { isBroadsheetError } from '../../src/errors/index.ts';
import { Ledger, openStore, SubscriberRepo } from '../../src/store/index.ts';
import { digest, EDITION, tempDir, testContext } from '../fixtures/delivery/ctx.ts';

// What keeps a send from hanging or sending twice when the code around it
// misbehaves: a transport whose promise never settles, and a lease lost to
// another sender in the middle of a run. The transports here are plain
// objects implementing the Transport contract — they are the thing under test's
// input (a third-party transport), not a stand-in for a server.

const input = { editionId: EDITION, list: 'daily', listName: '每日簡報', digest };
const READERS = ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com'];

function setup(delivery: Record<string, unknown> = {}) {
  const ctx = testContext(tempDir('bs-guards-'), { delivery });
  const db = openStore(ctx.paths.store);
  const repo = new SubscriberRepo(db);
  repo.upsertMany(
    READERS.map((email) => ({ email })),
    'test',
  );
  return { ctx, db, repo };
}

const ok = (msg: OutgoingMessage): DeliveryResult => {
  msg.commit();
  return { accepted: [msg.recipient], rejected: [], response: '250 ok', messageId: msg.messageId };
};

describe('a transport whose send never settles', () => {
  it('ends with SEND_TIMEOUT at the per-message deadline, closes the transport, leaves the message queued', async () => {
    const { ctx, db, repo } = setup({ messageTimeoutMs: 300 });
    let closed = false;
    let lateCommit: unknown = 'not called';
    const stuck: Transport = {
      name: 'stuck',
      send: (msg) => {
        // Wakes up after its deadline and tries to pass its point of no return: refused.
        setTimeout(() => {
          try {
            msg.commit();
            lateCommit = 'accepted';
          } catch (err) {
            lateCommit = err;
          }
        }, 600);
        return new Promise<never>(() => {});
      },
      close: async () => {
        closed = true;
      },
    };
    const err = await sendEdition(ctx, db, input, { transport: stuck }).catch((e: unknown) => e);
    expect(isBroadsheetError(err) && err.code).toBe('SEND_TIMEOUT');
    expect(isBroadsheetError(err) && err.exitCode).toBe(1);
    expect(closed).toBe(true);
    expect(summaryOfStopped(err)).toMatchObject({ sent: 0, left: 4 });
    await new Promise((r) => setTimeout(r, 700));
    expect(lateCommit).toBeInstanceOf(Error);
    expect(new Ledger(db).counts(EDITION)).toMatchObject({ committed: 0, sent: 0, deferred: 1, queued: 3 });
    expect(READERS.map((r) => repo.get(r)!.status)).toEqual(READERS.map(() => 'active'));
    db.close();
  });

  it('a message that passed its point of no return before hanging stays unconfirmed, never resent', async () => {
    const { ctx, db } = setup({ messageTimeoutMs: 300 });
    const hangsAfterCommit: Transport = {
      name: 'hangs-after-commit',
      send: (msg) => {
        msg.commit();
        return new Promise<never>(() => {});
      },
    };
    const err = await sendEdition(ctx, db, input, { transport: hangsAfterCommit }).catch((e: unknown) => e);
    expect(isBroadsheetError(err) && err.code).toBe('SEND_TIMEOUT');
    expect(summaryOfStopped(err)).toMatchObject({ unconfirmed: 1, left: 3 });
    // The next run, with a working transport, sends the other three only.
    const sent: string[] = [];
    const s = await sendEdition(ctx, db, input, {
      transport: {
        name: 'works',
        send: async (m) => {
          sent.push(m.recipient);
          return ok(m);
        },
      },
    });
    expect(sent).toEqual(READERS.slice(1));
    expect(s).toMatchObject({ sent: 3, unconfirmed: 1 });
    db.close();
  });
});

describe('a send that loses its lease', () => {
  it('stops sending at once with SEND_LEASE_LOST; the new holder finds the rest queued', async () => {
    const { ctx, db, repo } = setup();
    const other = openStore(ctx.paths.store);
    const sent: string[] = [];
    const transport: Transport = {
      name: 'steals-lease',
      send: async (msg) => {
        sent.push(msg.recipient);
        // Meanwhile this process stalled past its lease and another sender took the edition over.
        if (sent.length === 2)
          other
            .prepare("UPDATE leases SET holder = 'other-sender', pid = 1, expires_at = ? WHERE name = ?")
            .run(Date.now() + 60_000, `send:${EDITION}`);
        return ok(msg);
      },
    };
    const err = await sendEdition(ctx, db, input, { transport }).catch((e: unknown) => e);
    expect(isBroadsheetError(err) && err.code).toBe('SEND_LEASE_LOST');
    expect(sent).toEqual(READERS.slice(0, 2));
    expect(new Ledger(db).counts(EDITION)).toMatchObject({ sent: 2, queued: 2 });
    expect(summaryOfStopped(err)).toMatchObject({ sent: 2, left: 2 });
    // The lease it lost is not released by it: the other sender still holds it.
    const holder = other.prepare('SELECT holder FROM leases WHERE name = ?').pluck().get(`send:${EDITION}`);
    expect(holder).toBe('other-sender');
    expect(READERS.map((r) => repo.get(r)!.status)).toEqual(READERS.map(() => 'active'));
    other.close();
    db.close();
  });

  it('stops when the lease row is gone (renewal impossible)', async () => {
    const { ctx, db } = setup();
    let n = 0;
    const transport: Transport = {
      name: 'lease-deleted',
      send: async (msg) => {
        if (++n === 1) db.prepare('DELETE FROM leases WHERE name = ?').run(`send:${EDITION}`);
        return ok(msg);
      },
    };
    const err = await sendEdition(ctx, db, input, { transport }).catch((e: unknown) => e);
    expect(isBroadsheetError(err) && err.code).toBe('SEND_LEASE_LOST');
    expect(n).toBe(1);
    db.close();
  });
});
