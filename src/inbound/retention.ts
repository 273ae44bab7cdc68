import type { DB } from '../store/db.ts';

// Raw inbound messages are personal data (a bounce quotes the reader's
// address and often the whole digest): their source is kept for
// `inbound.keepRawDays` (default 30) for a human to look at, then dropped.
// The rows stay — with size, classification and their events — so counts and
// the report do not change when the raw text goes.

/** Drop the raw source of messages received more than `keepDays` days before `now`. Returns how many. */
export function purgeInbound(db: DB, keepDays: number, now: Date): number {
  const cutoff = new Date(now.getTime() - Math.max(0, keepDays) * 86_400_000).toISOString();
  return db
    .prepare('UPDATE inbound_messages SET raw = NULL WHERE received_at < ? AND raw IS NOT NULL')
    .run(cutoff).changes;
}
