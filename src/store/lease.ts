import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
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

function alive(pid: number): boolean {
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
