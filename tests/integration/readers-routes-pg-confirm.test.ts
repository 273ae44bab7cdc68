// The signup confirmation's ledger (confirm_sends) on PostgreSQL (issue 17):
// two `serve` replicas sending one signup's confirmation at the same moment —
// both pass the "not sent yet" check, both talk to the (real, loopback) SMTP
// server, and the row written at the commit point, just before the
// end-of-data, lets only one copy through; the other is aborted before its
// "." and reports 'already'. A failure before the commit point leaves no row,
// so the next signup sends it, as on SQLite.
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendConfirmation } from '../../src/delivery/confirm.ts';
import { type Backend, closeBackend, openBackend, parseStoreTarget } from '../../src/store/backend.ts';
import { signupsFor } from '../../src/store/signups.ts';
import { tempDir, testContext } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink } from '../fixtures/delivery/sink.ts';
import { ROOT } from '../helpers/cli.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';

const pgOk = await needsPostgres();
const KEYS = [Buffer.from('confirm-pg-secret')];

let db: PgTestDb;
let backend: Backend;
let sink: Sink;
let client: pg.Client;

/** A context sending through the sink, with the repository's templates. */
const smtpContext = () => {
  const ctx = testContext(tempDir('bs-confirm-pg-'), {}, { smtpUrl: sink.url });
  return { ...ctx, paths: { ...ctx.paths, templates: join(ROOT, 'templates') } };
};

describe.skipIf(!pgOk)('confirmation mails on PostgreSQL: one per signup across processes', () => {
  beforeAll(async () => {
    db = await freshPgDatabase();
    sink = await startSink();
    const ctx = testContext(tempDir('bs-confirm-pg-'));
    backend = await openBackend(parseStoreTarget(db.url), ctx.config.store, {});
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    if (backend) await closeBackend(backend);
    await sink?.close();
    await db?.drop();
  });

  it('two senders at once: one message at the server, one committed row, the other says already', async () => {
    const ctx = smtpContext();
    const signups = signupsFor(backend, KEYS);
    for (let round = 0; round < 3; round++) {
      const email = `race${round}@example.com`;
      const s = await signups.create({ email, list: 'daily' }, 48);
      // Two ledgers on one pool, as two replicas: each its own sendConfirmation.
      const outcomes = await Promise.all([
        sendConfirmation(ctx, backend, KEYS, s),
        sendConfirmation(ctx, backend, KEYS, s),
      ]);
      expect(outcomes.sort()).toEqual(['already', 'sent']);
      // Both reached the server (RCPT TO twice): the second copy was cut before its end of data.
      expect(sink.attempts.get(email)).toBe(2);
      expect(sink.received.filter((m) => m.to.includes(email))).toHaveLength(1);
      const rows = await client.query('SELECT state FROM confirm_sends WHERE signup_id = $1', [s.id]);
      expect(rows.rows).toEqual([{ state: 'sent' }]);
      // Later calls (a repeated signup) send nothing.
      expect(await sendConfirmation(ctx, backend, KEYS, s)).toBe('already');
    }
  }, 120_000);

  it('refused before the commit point: no row, and the next attempt sends it', async () => {
    const ctx = smtpContext();
    const s = await signupsFor(backend, KEYS).create({ email: 'refused@example.com', list: 'daily' }, 48);
    sink.script = (stage) => (stage === 'rcpt' ? 550 : undefined);
    try {
      expect(await sendConfirmation(ctx, backend, KEYS, s)).toBe('failed');
    } finally {
      sink.script = () => undefined;
    }
    expect((await client.query('SELECT 1 FROM confirm_sends WHERE signup_id = $1', [s.id])).rows).toEqual([]);
    expect(await sendConfirmation(ctx, backend, KEYS, s)).toBe('sent');
    expect(sink.received.filter((m) => m.to.includes('refused@example.com'))).toHaveLength(1);
  }, 120_000);
});
