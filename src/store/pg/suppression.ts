import { type Suppression, type SuppressionReason, suppressionHashes } from '../suppression.ts';
import type { PgClient, PgPool } from './pool.ts';
import { tx } from './subscribers.ts';

// The suppression list on the PostgreSQL store (issue 17): keyed hashes, as
// SuppressionList. INSERT … ON CONFLICT DO UPDATE is SQLite's INSERT OR REPLACE.

const UPSERT = `INSERT INTO suppression (hash, reason, created_at) VALUES ($1, $2, $3)
  ON CONFLICT (hash) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at`;

/** Put `email` on the list inside the caller's transaction (events, forget). */
export async function suppressIn(
  c: PgClient | PgPool,
  keys: readonly Buffer[],
  email: string,
  reason: SuppressionReason,
  at: string,
): Promise<void> {
  await c.query(UPSERT, [suppressionHashes(keys, email)[0], reason, at]);
}

export class PgSuppression implements Suppression {
  constructor(
    private readonly pool: PgPool,
    private readonly keys: readonly Buffer[],
    private readonly now: () => Date = () => new Date(),
  ) {}

  async add(email: string, reason: SuppressionReason): Promise<void> {
    await suppressIn(this.pool, this.keys, email, reason, this.now().toISOString());
  }

  async reason(email: string): Promise<SuppressionReason | undefined> {
    const hashes = suppressionHashes(this.keys, email);
    const r = await this.pool.query<{ hash: string; reason: SuppressionReason; created_at: string }>(
      'SELECT hash, reason, created_at FROM suppression WHERE hash = ANY($1::text[])',
      [hashes],
    );
    const [current, ...old] = hashes;
    const hit = r.rows.find((x) => x.hash === current);
    if (hit) return hit.reason;
    for (const h of old) {
      const o = r.rows.find((x) => x.hash === h);
      if (!o) continue;
      await tx(this.pool, async (c) => {
        await c.query('DELETE FROM suppression WHERE hash = $1', [h]);
        await c.query(UPSERT, [current, o.reason, o.created_at]);
      });
      return o.reason;
    }
    return undefined;
  }

  /** The suppressed ones among `emails` (an import checks every row in one round trip). */
  async suppressedAmong(emails: string[]): Promise<Set<string>> {
    const hashOf = new Map<string, string>();
    for (const e of emails) for (const h of suppressionHashes(this.keys, e)) hashOf.set(h, e);
    const hit = new Set<string>();
    const all = [...hashOf.keys()];
    for (let i = 0; i < all.length; i += 20_000) {
      const r = await this.pool.query<{ hash: string }>(
        'SELECT hash FROM suppression WHERE hash = ANY($1::text[])',
        [all.slice(i, i + 20_000)],
      );
      for (const x of r.rows) hit.add(hashOf.get(x.hash)!);
    }
    return hit;
  }

  async remove(email: string): Promise<void> {
    await this.pool.query('DELETE FROM suppression WHERE hash = ANY($1::text[])', [
      suppressionHashes(this.keys, email),
    ]);
  }

  async count(): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM suppression')).rows[0]!.n;
  }
}
