import { editionHash, openVerpToken } from '../../delivery/verp.ts';
import type { InboundMeta } from '../../inbound/classify.ts';
import { addressList, type InboundStore, listPattern, type SendRef } from '../../inbound/store.ts';
import { normalizeEmail } from '../subscribers.ts';
import type { PgPool } from './pool.ts';

// The inbound messages and the lookups that attribute a report to a send, on
// the PostgreSQL store (issue 17): SqliteInboundStore's statements
// (src/inbound/store.ts) with $n placeholders, so `broadsheet inbound` runs on
// any host of a newsroom sharing one database. The raw source is BYTEA.

export class PgInboundStore implements InboundStore {
  constructor(private readonly pool: PgPool) {}

  async insertRaw(received: Date, meta: InboundMeta, raw: Buffer): Promise<number> {
    const r = await this.pool.query<{ id: number }>(
      `INSERT INTO inbound_messages (received_at, source, mail_from, rcpt_to, size, classified, raw)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id`,
      [received.toISOString(), meta.source, meta.mailFrom ?? null, addressList(meta.rcptTo), raw.length, raw],
    );
    return r.rows[0]!.id;
  }

  async verp(keys: readonly Buffer[], token: string): Promise<SendRef | undefined> {
    const c = openVerpToken(keys, token);
    if (!c) return undefined;
    const r = await this.pool.query<{ edition: string }>(
      'SELECT edition FROM sends WHERE subscriber_id = $1 ORDER BY created_at DESC',
      [c.subscriberId],
    );
    const hit = r.rows.find((x) => editionHash(x.edition).equals(c.editionHash));
    return hit ? { edition: hit.edition, subscriberId: c.subscriberId } : undefined;
  }

  async readerId(ref: { id: number } | { email: string }): Promise<number | undefined> {
    const r =
      'id' in ref
        ? await this.pool.query<{ id: number }>('SELECT id FROM subscribers WHERE id = $1', [ref.id])
        : await this.pool.query<{ id: number }>('SELECT id FROM subscribers WHERE email = $1', [
            normalizeEmail(ref.email),
          ]);
    return r.rows[0]?.id;
  }

  async latestOf(subscriberId: number, list: string): Promise<string | null> {
    const r = await this.pool.query<{ edition: string }>(
      "SELECT edition FROM sends WHERE subscriber_id = $1 AND edition LIKE $2 ESCAPE '\\' ORDER BY created_at DESC LIMIT 1",
      [subscriberId, listPattern(list)],
    );
    return r.rows[0]?.edition ?? null;
  }

  async softSeen(subscriberId: number, edition: string): Promise<boolean> {
    const r = await this.pool.query(
      "SELECT 1 FROM mail_events WHERE subscriber_id = $1 AND edition = $2 AND kind = 'bounce_soft' LIMIT 1",
      [subscriberId, edition],
    );
    return r.rows.length > 0;
  }

  async dropDuplicate(inboundId: number, source: string, externalId: string): Promise<number> {
    const first = await this.pool.query<{ id: number | null }>(
      'SELECT inbound_id AS id FROM mail_events WHERE source = $1 AND external_id = $2',
      [source, externalId],
    );
    await this.pool.query('DELETE FROM inbound_messages WHERE id = $1', [inboundId]);
    return first.rows[0]?.id ?? inboundId;
  }

  async setClassified(inboundId: number, classified: string): Promise<void> {
    await this.pool.query('UPDATE inbound_messages SET classified = $1 WHERE id = $2', [
      classified,
      inboundId,
    ]);
  }

  async purge(keepDays: number, now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - Math.max(0, keepDays) * 86_400_000).toISOString();
    const r = await this.pool.query(
      'UPDATE inbound_messages SET raw = NULL WHERE received_at < $1 AND raw IS NOT NULL',
      [cutoff],
    );
    return r.rowCount ?? 0;
  }
}
