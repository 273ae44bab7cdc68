import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Awaitable, Backend } from './backend.ts';
import type { DB } from './db.ts';

export interface Lease {
  name: string;
  holder: string;
  /** Extend the lease; false if another process took it over meanwhile. */
  renew(): boolean;
  release(): void;
}

export interface LeaseHolder {
  holder: string;
  pid: number;
  host: string;
  expiresAt: number;
}

/** Whether a process of this host exists (EPERM: it does, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A cross-process lock row. Taken when free, expired, or held by a process
 * of this host that no longer exists (a SIGKILLed sender does not make the
 * restart wait for the lease to expire). Returns the current holder when
 * refused. The check-and-take runs in one IMMEDIATE transaction.
 */
export function acquireLease(
  db: DB,
  name: string,
  ttlMs: number,
  now: () => number = Date.now,
): Lease | LeaseHolder {
  const holder = `${process.pid}.${randomBytes(6).toString('hex')}`;
  const host = hostname();
  const take = db.transaction((): LeaseHolder | undefined => {
    const cur = db
      .prepare('SELECT holder, pid, host, expires_at AS expiresAt FROM leases WHERE name = ?')
      .get(name) as LeaseHolder | undefined;
    if (cur && cur.expiresAt > now() && !(cur.host === host && cur.pid !== process.pid && !alive(cur.pid)))
      return cur;
    db.prepare(
      'INSERT OR REPLACE INTO leases (name, holder, pid, host, expires_at) VALUES (?, ?, ?, ?, ?)',
    ).run(name, holder, process.pid, host, now() + ttlMs);
    return undefined;
  });
  const refused = take.immediate();
  if (refused) return refused;
  return {
    name,
    holder,
    renew: () =>
      db
        .prepare('UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?')
        .run(now() + ttlMs, name, holder).changes > 0,
    release: () => {
      db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
    },
  };
}

export const isLease = (l: Lease | LeaseHolder): l is Lease => 'renew' in l;

/**
 * Who holds a lease right now, without taking it: undefined when it is free,
 * expired, or held by a process of this host that no longer exists (the same
 * test acquireLease applies). A process's own leases count as held.
 */
export function liveHolder(db: DB, name: string, now: () => number = Date.now): LeaseHolder | undefined {
  const cur = db
    .prepare('SELECT holder, pid, host, expires_at AS expiresAt FROM leases WHERE name = ?')
    .get(name) as LeaseHolder | undefined;
  if (!cur || cur.expiresAt <= now()) return undefined;
  if (cur.host === hostname() && cur.pid !== process.pid && !alive(cur.pid)) return undefined;
  return cur;
}

// The lease store behind one interface (issue 17): the SQLite functions above
// (synchronous, unchanged) and src/store/pg/lease.ts, where the database's
// clock decides expiry. Callers `await` every call.

/** A held lease of either store. */
export interface StoreLease {
  name: string;
  holder: string;
  /** Extend the lease; false if another process took it over meanwhile. */
  renew(): Awaitable<boolean>;
  release(): Awaitable<void>;
}

export interface LeaseStore {
  /** Take `name` when free, expired, or held by a dead process of this host; else its holder. */
  acquire(name: string, ttlMs: number): Awaitable<StoreLease | LeaseHolder>;
  /** The live holder of `name`, without taking it (see liveHolder). */
  liveHolder(name: string): Awaitable<LeaseHolder | undefined>;
}

export const isStoreLease = (l: StoreLease | LeaseHolder): l is StoreLease => 'renew' in l;

/** The SQLite lease store; `now` is the clock of expiry (the context's clock in tests). */
export function sqliteLeases(db: DB, now: () => number = Date.now): LeaseStore {
  return {
    acquire: (name, ttlMs) => acquireLease(db, name, ttlMs, now),
    liveHolder: (name) => liveHolder(db, name, now),
  };
}

/** The lease store of an open backend (PostgreSQL's module is imported on use: no pg for a SQLite file). */
export async function leaseFor(b: Backend, now?: () => number): Promise<LeaseStore> {
  if (b.kind === 'sqlite') return sqliteLeases(b.db, now);
  const { pgLeases } = await import('./pg/lease.ts');
  return pgLeases(b.pool, b.url);
}
