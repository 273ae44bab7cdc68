import { resolveVerp } from '../delivery/verp.ts';
import type { Awaitable, Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { PgInboundStore } from '../store/pg/inbound.ts';
import { normalizeEmail } from '../store/subscribers.ts';
import type { InboundMeta } from './classify.ts';
import { purgeInbound } from './retention.ts';

// What `broadsheet inbound` and the IMAP poller read and write besides the mail
// events (issue 17): the raw messages and the lookups that attribute a report
// to a send. SQLite below; PostgreSQL in src/store/pg/inbound.ts, so several
// hosts can receive bounces for one newsroom.

export type SendRef = { edition: string; subscriberId: number };

export interface InboundStore {
  /** Store the raw message first (nothing lost if reading it fails); its id. */
  insertRaw(received: Date, meta: InboundMeta, raw: Buffer): Awaitable<number>;
  /** A genuine VERP token's real send. */
  verp(keys: readonly Buffer[], token: string): Awaitable<SendRef | undefined>;
  /** The reader an unsubscribe token names: by id (v2) or address (v1). */
  readerId(ref: { id: number } | { email: string }): Awaitable<number | undefined>;
  /** The newest edition of `list` sent to the reader. */
  latestOf(subscriberId: number, list: string): Awaitable<string | null>;
  /** Whether a soft bounce about (reader, edition) is already recorded. */
  softSeen(subscriberId: number, edition: string): Awaitable<boolean>;
  /** A duplicate report: drop the new copy, give the first copy's id. */
  dropDuplicate(inboundId: number, source: string, externalId: string): Awaitable<number>;
  setClassified(inboundId: number, classified: string): Awaitable<void>;
  /** Drop raw sources older than `keepDays`; how many. */
  purge(keepDays: number, now: Date): Awaitable<number>;
}

/** LIKE pattern for a list's editions (`daily-…`). */
export const listPattern = (list: string) => `${list.replace(/[\\%_]/g, '\\$&')}-%`;

export const addressList = (a: string[]) => a.join(', ').slice(0, 2000);

export function inboundStoreFor(backend: Backend): InboundStore {
  return backend.kind === 'sqlite' ? new SqliteInboundStore(backend.db) : new PgInboundStore(backend.pool);
}

export class SqliteInboundStore implements InboundStore {
  constructor(private readonly db: DB) {}

  insertRaw(received: Date, meta: InboundMeta, raw: Buffer): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO inbound_messages (received_at, source, mail_from, rcpt_to, size, classified, raw)
           VALUES (?, ?, ?, ?, ?, 'pending', ?)`,
        )
        .run(
          received.toISOString(),
          meta.source,
          meta.mailFrom ?? null,
          addressList(meta.rcptTo),
          raw.length,
          raw,
        ).lastInsertRowid,
    );
  }

  verp(keys: readonly Buffer[], token: string) {
    return resolveVerp(this.db, keys, token);
  }

  readerId(ref: { id: number } | { email: string }): number | undefined {
    const row = (
      'id' in ref
        ? this.db.prepare('SELECT id FROM subscribers WHERE id = ?').get(ref.id)
        : this.db.prepare('SELECT id FROM subscribers WHERE email = ?').get(normalizeEmail(ref.email))
    ) as { id: number } | undefined;
    return row?.id;
  }

  latestOf(subscriberId: number, list: string): string | null {
    return (
      (
        this.db
          .prepare(
            "SELECT edition FROM sends WHERE subscriber_id = ? AND edition LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT 1",
          )
          .get(subscriberId, listPattern(list)) as { edition: string } | undefined
      )?.edition ?? null
    );
  }

  softSeen(subscriberId: number, edition: string): boolean {
    return (
      this.db
        .prepare(
          "SELECT 1 FROM mail_events WHERE subscriber_id = ? AND edition = ? AND kind = 'bounce_soft' LIMIT 1",
        )
        .get(subscriberId, edition) !== undefined
    );
  }

  dropDuplicate(inboundId: number, source: string, externalId: string): number {
    const first = this.db
      .prepare('SELECT inbound_id AS id FROM mail_events WHERE source = ? AND external_id = ?')
      .get(source, externalId) as { id: number | null } | undefined;
    this.db.prepare('DELETE FROM inbound_messages WHERE id = ?').run(inboundId);
    return first?.id ?? inboundId;
  }

  setClassified(inboundId: number, classified: string): void {
    this.db.prepare('UPDATE inbound_messages SET classified = ? WHERE id = ?').run(classified, inboundId);
  }

  purge(keepDays: number, now: Date): number {
    return purgeInbound(this.db, keepDays, now);
  }
}
