import type { DB } from '../store/db.ts';
import type { Lease } from '../store/index.ts';
import type { Transport } from './transport.ts';

// What keeps a send bounded and single: its lease (another sender may take an
// edition whose lease expired), a deadline around every transport call (a
// transport is code we may not own: its promise might never settle), and a
// close that cannot hang the process.

export interface LeaseGuard {
  /** True while this process still holds the lease; checked before each message. */
  held(): boolean;
  /** Why it was lost, once it was. */
  readonly lost: string | undefined;
  stop(): void;
}

/**
 * Renews the lease every third of its life and, before each message, reads it
 * back: a lease that expired while this process stalled (a long GC, a
 * suspended VM) may have been taken by another sender, and then this one must
 * not send another message.
 */
export function leaseGuard(db: DB, lease: Lease, ttlMs: number, now: () => number = Date.now): LeaseGuard {
  let lost: string | undefined;
  let renewedAt = now();
  const read = db.prepare('SELECT holder, expires_at AS expiresAt FROM leases WHERE name = ?');
  const renew = () => {
    if (lost) return;
    try {
      if (lease.renew()) renewedAt = now();
      else lost = 'the lease was taken by another sender';
    } catch (err) {
      lost = `the lease could not be renewed: ${(err as Error).message}`;
    }
  };
  const timer = setInterval(renew, ttlMs / 3);
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    held() {
      if (lost) return false;
      try {
        const row = read.get(lease.name) as { holder: string; expiresAt: number } | undefined;
        if (!row || row.holder !== lease.holder) lost = 'the lease was taken by another sender';
        else if (row.expiresAt <= now() || now() - renewedAt >= ttlMs / 3) renew();
      } catch (err) {
        lost = `the lease could not be read: ${(err as Error).message}`;
      }
      return !lost;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

export class DeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`no result within ${ms} ms`);
  }
}

/** `p`, or a DeadlineExceeded after `ms`; `onTimeout` runs first, synchronously, so the caller can disown `p`. */
export function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new DeadlineExceeded(ms));
    }, ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Close a transport without ever waiting more than `ms` for it. */
export async function closeQuietly(transport: Transport, ms = 5000): Promise<void> {
  if (!transport.close) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    transport.close().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
