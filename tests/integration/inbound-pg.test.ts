// `broadsheet inbound` on a PostgreSQL store (issue 17): the real CLI,
// listening on loopback SMTP, records a DSN sent to a VERP address into the
// shared database — the raw message (BYTEA), the mail event attributed to its
// reader and edition, the reader bounced and suppressed — and a second copy of
// the same report changes nothing. The world is the inbound fixtures' one
// (readers 1–12, one send each, the secret their VERP tokens were made with).
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, closeBackend, openBackend, parseStoreTarget } from '../../src/store/backend.ts';
import { subscribersFor } from '../../src/store/subscribers.ts';
import { EDITION, tempDir, testContext } from '../fixtures/delivery/ctx.ts';
import { fixture, messageIdOf, READERS } from '../fixtures/inbound/store.ts';
import { ROOT } from '../helpers/cli.ts';
import { run, start } from '../helpers/daemon.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';

const pgOk = await needsPostgres();
const VERP_1 = 'bounces+qxwcugmiev2aazoz42gadgkqjy@news.example.com';
const env = { BROADSHEET_SECRET: 'inbound-fixture-secret', IMAP_URL: '' };

let db: PgTestDb;
let client: pg.Client;
const q = async <T extends pg.QueryResultRow>(sql: string, args: unknown[] = []) =>
  (await client.query<T>(sql, args)).rows;

describe.skipIf(!pgOk)('broadsheet inbound on PostgreSQL', () => {
  beforeAll(async () => {
    db = await freshPgDatabase();
    const ctx = testContext(tempDir('bs-inbound-pg-'));
    const b: Backend = await openBackend(parseStoreTarget(db.url), ctx.config.store, {});
    try {
      const subs = subscribersFor(b);
      await subs.upsertMany(
        READERS.map((email) => ({ email })),
        'test',
      );
      if (b.kind !== 'postgres') throw new Error('expected PostgreSQL');
      for (const [i, email] of READERS.entries())
        await b.pool.query(
          `INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at)
           VALUES ($1, $2, $3, 'sent', $4, '2025-12-10T00:12:29Z', '2025-12-10T00:12:30Z')`,
          [EDITION, i + 1, email, messageIdOf(i + 1)],
        );
    } finally {
      await closeBackend(b);
    }
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('records a VERP DSN: the event, the raw message, the reader bounced and suppressed; a repeat changes nothing', async () => {
    const p = start(
      ['inbound', '--config', join(ROOT, 'broadsheet.config.yaml'), '--store', db.url, '--port', '0'],
      { env },
    );
    try {
      const line = await p.waitLine(/SMTP listening on/);
      const smtp = createTransport({
        host: '127.0.0.1',
        port: Number(line.port),
        secure: false,
        ignoreTLS: true,
      });
      const send = () =>
        smtp.sendMail({ envelope: { from: '', to: [VERP_1] }, raw: fixture('postfix-hard-5.1.1.eml') });
      expect((await send()).response).toMatch(/^250 /);

      const events = await q<{
        kind: string;
        source: string;
        subscriber_id: number;
        edition: string;
        action: string;
        inbound_id: number;
      }>(
        'SELECT kind, source, subscriber_id::int AS subscriber_id, edition, action, inbound_id::int AS inbound_id FROM mail_events',
      );
      expect(events).toEqual([
        expect.objectContaining({
          kind: 'bounce_hard',
          source: 'inbound',
          subscriber_id: 1,
          edition: EDITION,
          action: 'bounced',
        }),
      ]);
      const [msg] = await q<{ classified: string; size: number; raw: Buffer }>(
        'SELECT classified, size::int AS size, raw FROM inbound_messages WHERE id = $1',
        [events[0]!.inbound_id],
      );
      expect(msg!.classified).toBe('dsn');
      // The raw source as received (BYTEA round trip): its size, the report's status line.
      expect(msg!.raw.length).toBe(msg!.size);
      expect(msg!.raw.toString('utf8')).toMatch(/Status: 5\.1\.1/);
      expect(await q('SELECT status FROM subscribers WHERE id = 1')).toEqual([{ status: 'bounced' }]);
      expect(await q('SELECT status FROM subscribers WHERE id = 2')).toEqual([{ status: 'active' }]);
      expect(await q('SELECT reason FROM suppression')).toEqual([{ reason: 'bounced' }]);

      // The same report again (the MTA retrying): one event, one stored copy.
      expect((await send()).response).toMatch(/^250 /);
      expect(await q('SELECT count(*)::int AS n FROM mail_events')).toEqual([{ n: 1 }]);
      expect(await q('SELECT count(*)::int AS n FROM inbound_messages')).toEqual([{ n: 1 }]);

      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  }, 120_000);

  it('without BROADSHEET_SECRET a shared store is refused before anything is opened (SECRET_REQUIRED, exit 2)', async () => {
    const r = await run(
      ['inbound', '--config', join(ROOT, 'broadsheet.config.yaml'), '--store', db.url, '--port', '0'],
      { env: { BROADSHEET_SECRET: '', IMAP_URL: '' } },
    );
    expect(r.code).toBe(2);
    expect(JSON.stringify(r)).toMatch(/SECRET_REQUIRED/);
  }, 60_000);
});
