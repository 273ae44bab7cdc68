import { CONSENT_COLUMNS, type Consent } from '../consent.ts';
import {
  DELETE_OWN_MESSAGES,
  erasing,
  type ReaderExport,
  readerEvents,
  SCRUB_SIGNUPS,
  SEND_EXPORT_COLUMNS,
  SIGNUP_EXPORT_COLUMNS,
} from '../privacy.ts';
import { fromRow, normalizeEmail, type Row } from '../subscribers.ts';
import type { PgPool } from './pool.ts';
import { dollars, tx } from './subscribers.ts';
import { suppressIn } from './suppression.ts';

// A reader's export and erasure on the PostgreSQL store (issue 17): the same
// statements as src/store/privacy.ts, in one transaction.

export async function exportReaderPg(
  pool: PgPool,
  email: string,
  now: Date,
): Promise<ReaderExport | undefined> {
  const addr = normalizeEmail(email);
  // One snapshot: a send or an event committed meanwhile is in all parts or in none.
  return tx(pool, async (c) => {
    await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const p = (await c.query<Row>('SELECT * FROM subscribers WHERE email = $1', [addr])).rows[0];
    const profile = p && fromRow(p);
    const pendingSignups = (
      await c.query<ReaderExport['pendingSignups'][number]>(
        `SELECT ${SIGNUP_EXPORT_COLUMNS} FROM signups WHERE email = $1 ORDER BY id`,
        [addr],
      )
    ).rows;
    if (!profile && pendingSignups.length === 0) return undefined;
    const sends = profile
      ? (
          await c.query<ReaderExport['sends'][number]>(
            `SELECT ${SEND_EXPORT_COLUMNS} FROM sends WHERE subscriber_id = $1 ORDER BY created_at`,
            [profile.id],
          )
        ).rows
      : [];
    const consent = profile
      ? (
          await c.query<Consent>(
            `SELECT ${CONSENT_COLUMNS} FROM consent WHERE subscriber_id = $1 ORDER BY id`,
            [profile.id],
          )
        ).rows
      : [];
    const events = profile ? readerEvents(profile, consent, sends) : [];
    return { exportedAt: now.toISOString(), profile, consent, sends, events, pendingSignups };
  });
}

export async function forgetReaderPg(
  pool: PgPool,
  keys: readonly Buffer[],
  email: string,
  now: Date,
): Promise<boolean> {
  const addr = normalizeEmail(email);
  const at = now.toISOString();
  return tx(pool, async (c) => {
    let held = ((await c.query(dollars(SCRUB_SIGNUPS), [addr])).rowCount ?? 0) > 0;
    // Locked: an event or import for this reader waits, then finds the placeholder.
    const id = (
      await c.query<{ id: number }>('SELECT id FROM subscribers WHERE email = $1 FOR UPDATE', [addr])
    ).rows[0]?.id;
    if (id !== undefined) {
      held = true;
      for (const [sql, args] of erasing(id, at)) await c.query(dollars(sql), args);
    }
    if (((await c.query(dollars(DELETE_OWN_MESSAGES), [addr])).rowCount ?? 0) > 0) held = true;
    if (held) await suppressIn(c, keys, addr, 'forgotten', at);
    return held;
  });
}
