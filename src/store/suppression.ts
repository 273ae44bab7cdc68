import { createHmac, hkdfSync } from 'node:crypto';
import type { Awaitable, Backend } from './backend.ts';
import type { DB } from './db.ts';
import { PgSuppression } from './pg/suppression.ts';
import { stmt } from './statements.ts';
import { normalizeEmail } from './subscribers.ts';

// Addresses that must not come back without a fresh confirmation, kept as keyed
// hashes: HMAC-SHA256 with a key derived from BROADSHEET_SECRET. A copy of the
// store alone cannot tell whether a given address was ever a reader (a plain
// SHA-256 of an address is reversed by hashing a list of candidates).
//
// The hash depends on the secret: after a rotation, entries made under an old
// key still match while that key is in BROADSHEET_SECRET_PREVIOUS, and each is
// re-keyed under the current secret the first time its address is checked.

export type SuppressionReason = 'forgotten' | 'unsubscribed' | 'bounced' | 'complained';

/** A keyed hash for `purpose` ('suppression', 'ip', 'rate'): hex, stable for one secret. */
export function keyedHash(secret: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', hashKey(secret, purpose)).update(value).digest('hex');
}

// HKDF once per (secret, purpose), not once per address: an import checks every row.
const derived = new Map<string, Buffer>();
function hashKey(secret: Buffer, purpose: string): Buffer {
  const id = `${purpose}\u0000${secret.toString('base64')}`;
  let key = derived.get(id);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', secret, 'broadsheet', `keyed-hash ${purpose}`, 32));
    derived.set(id, key);
  }
  return key;
}

/** The address's suppression hashes under each key, the current key's first. */
export const suppressionHashes = (keys: readonly Buffer[], email: string): string[] =>
  keys.map((k) => keyedHash(k, 'suppression', normalizeEmail(email)));

/** The suppression list (issue 17): SQLite below, PostgreSQL in src/store/pg/suppression.ts. */
export interface Suppression {
  add(email: string, reason: SuppressionReason): Awaitable<void>;
  /** Why the address is suppressed, or undefined (re-keys an entry found under an old key). */
  reason(email: string): Awaitable<SuppressionReason | undefined>;
  remove(email: string): Awaitable<void>;
  count(): Awaitable<number>;
}

export function suppressionFor(
  backend: Backend,
  keys: readonly Buffer[],
  now: () => Date = () => new Date(),
): Suppression {
  return backend.kind === 'sqlite'
    ? new SuppressionList(backend.db, keys, now)
    : new PgSuppression(backend.pool, keys, now);
}

export class SuppressionList implements Suppression {
  constructor(
    private readonly db: DB,
    private readonly keys: readonly Buffer[],
    private readonly now: () => Date = () => new Date(),
  ) {}

  private hashes(email: string): string[] {
    return suppressionHashes(this.keys, email);
  }

  add(email: string, reason: SuppressionReason): void {
    this.db
      .prepare('INSERT OR REPLACE INTO suppression (hash, reason, created_at) VALUES (?, ?, ?)')
      .run(this.hashes(email)[0], reason, this.now().toISOString());
  }

  /** Why the address is suppressed, or undefined. */
  reason(email: string): SuppressionReason | undefined {
    const [current, ...old] = this.hashes(email);
    const get = stmt(this.db, 'SELECT reason, created_at FROM suppression WHERE hash = ?');
    const hit = get.get(current) as { reason: SuppressionReason } | undefined;
    if (hit) return hit.reason;
    for (const h of old) {
      const r = get.get(h) as { reason: SuppressionReason; created_at: string } | undefined;
      if (!r) continue;
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM suppression WHERE hash = ?').run(h);
        this.db
          .prepare('INSERT OR REPLACE INTO suppression (hash, reason, created_at) VALUES (?, ?, ?)')
          .run(current, r.reason, r.created_at);
      })();
      return r.reason;
    }
    return undefined;
  }

  /** Lift it: the reader confirmed again (double opt-in). */
  remove(email: string): void {
    const del = this.db.prepare('DELETE FROM suppression WHERE hash = ?');
    for (const h of this.hashes(email)) del.run(h);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM suppression').get() as { n: number }).n;
  }
}
