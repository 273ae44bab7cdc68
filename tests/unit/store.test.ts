import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLease, isLease, Ledger, openStore, SubscriberRepo } from '../../src/store/index.ts';
import { migrations } from '../../src/store/migrations.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';

const fresh = () => openStore(join(tempDir('bs-store-'), 'data', 'b.db'));

describe('store', () => {
  it('creates the schema with WAL and migrates once', () => {
    const file = join(tempDir('bs-store-'), 'data', 'b.db');
    const db = openStore(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    db.close();
    const again = openStore(file);
    expect(again.pragma('user_version', { simple: true })).toBe(migrations.length);
    again.close();
  });

  it('normalises addresses and never re-activates a suppressed subscriber on re-import', () => {
    const db = fresh();
    const repo = new SubscriberRepo(db);
    expect(repo.upsert({ email: '  Reader@Example.COM ', name: 'A' }, 'test')).toBe('added');
    expect(repo.upsert({ email: 'reader@example.com', name: 'A' }, 'test')).toBe('unchanged');
    expect(repo.upsert({ email: 'reader@example.com', name: 'B' }, 'test')).toBe('updated');
    for (const status of ['unsubscribed', 'bounced', 'complained'] as const) {
      repo.setStatus('reader@example.com', status, 'test');
      expect(repo.upsertMany([{ email: 'READER@example.com', name: 'C' }], 'import')['kept-status']).toBe(1);
      expect(repo.get('reader@example.com')!.status).toBe(status);
    }
    expect(repo.count()).toBe(1);
  });

  it('queues only active subscribers, once per edition, with a stable Message-ID', () => {
    const db = fresh();
    const repo = new SubscriberRepo(db);
    repo.upsertMany(
      [{ email: 'a@example.com' }, { email: 'b@example.com' }, { email: 'c@example.com' }],
      't',
    );
    repo.setStatus('b@example.com', 'unsubscribed');
    const ledger = new Ledger(db);
    expect(ledger.enqueue('daily-2025-12-10', 'news.example.com')).toBe(2);
    expect(ledger.enqueue('daily-2025-12-10', 'news.example.com')).toBe(0);
    const [a] = ledger.pending('daily-2025-12-10');
    expect(a!.messageId).toMatch(/^<daily-2025-12-10\.[0-9a-f]{8}\.\d+@news\.example\.com>$/);
    ledger.markCommitted('daily-2025-12-10', a!.subscriberId, 'smtp');
    expect(ledger.pending('daily-2025-12-10').map((r) => r.email)).toEqual(['c@example.com']);
    ledger.markSent('daily-2025-12-10', a!.subscriberId, '250 ok');
    expect(ledger.counts('daily-2025-12-10')).toMatchObject({ sent: 1, queued: 1 });
    expect(ledger.wouldSend('daily-2025-12-10').map((r) => r.email)).toEqual(['c@example.com']);
  });

  it('a permanent failure bounces the subscriber in the same transaction', () => {
    const db = fresh();
    new SubscriberRepo(db).upsert({ email: 'x@example.com' }, 't');
    const ledger = new Ledger(db);
    ledger.enqueue('e-2025-01-01', 'example.com');
    const [r] = ledger.pending('e-2025-01-01');
    ledger.markFailed('e-2025-01-01', r!.subscriberId, 'failed', '550 no such user', {
      countAttempt: true,
      bounce: true,
    });
    expect(new SubscriberRepo(db).get('x@example.com')!.status).toBe('bounced');
    expect(ledger.counts('e-2025-01-01').failed).toBe(1);
  });

  it('a lease is refused while its holder lives and taken over when the holder is dead', () => {
    const db = fresh();
    const first = acquireLease(db, 'send:x', 60_000);
    expect(isLease(first)).toBe(true);
    const second = acquireLease(db, 'send:x', 60_000);
    expect(isLease(second)).toBe(false);
    if (isLease(first)) first.release();
    expect(isLease(acquireLease(db, 'send:x', 60_000))).toBe(true);
    // A holder process that no longer exists (a SIGKILLed sender) does not block.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    db.prepare('UPDATE leases SET pid = ? WHERE name = ?').run(Number(dead.stdout), 'send:x');
    expect(isLease(acquireLease(db, 'send:x', 60_000))).toBe(true);
  });
});
