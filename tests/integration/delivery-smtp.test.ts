import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendEdition } from '../../src/delivery/send.ts';
import { createSmtpTransport, parseSmtpUrl } from '../../src/delivery/transports/smtp.ts';
import { resolveVerp, tokenOfAddress } from '../../src/delivery/verp.ts';
import { isBroadsheetError } from '../../src/errors/index.ts';
import { acquireLease, Ledger, openStore, SubscriberRepo } from '../../src/store/index.ts';
import { digest, EDITION, tempDir, testContext } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink, tally } from '../fixtures/delivery/sink.ts';
import { makeTestPki } from '../helpers/smtp-tls.ts';
import { needs } from '../helpers/system.ts';

// What each scripted recipient does at the real smtp-server (attempt = how many RCPTs for it so far).
const behaviour: Record<
  string,
  (stage: 'rcpt' | 'data', attempt: number) => number | string | 'drop' | undefined
> = {
  'ok@example.com': () => undefined,
  'rcpt421@example.com': (st, n) => (st === 'rcpt' && n <= 2 ? 421 : undefined),
  'rcpt451@example.com': (st, n) => (st === 'rcpt' && n === 1 ? 451 : undefined),
  'data451@example.com': (st, n) => (st === 'data' && n === 1 ? 451 : undefined),
  'data421@example.com': (st, n) => (st === 'data' && n === 1 ? 421 : undefined),
  'drop@example.com': (st, n) => (st === 'data' && n === 1 ? 'drop' : undefined),
  'rcpt550@example.com': (st) => (st === 'rcpt' ? 550 : undefined),
  // A per-recipient enhanced code at the end of data bounces the reader; a bare 554 there
  // (content, policy) is the sender's problem and stops the run (smtp-faults.test.ts).
  'data550@example.com': (st) => (st === 'data' ? '550 5.2.2 Mailbox full' : undefined),
  'always451@example.com': (st) => (st === 'rcpt' ? 451 : undefined),
};

const always451 = behaviour['always451@example.com']!;

// Each case runs twice: against a plain server, and against one that offers STARTTLS with a
// certificate from a test CA (trusted through SMTP_URL ?ca=) and requires AUTH.
const AUTH = { user: 'newsroom', pass: 'p@ss:word' };
const hasOpenssl = needs('openssl', 'openssl');
const modes = [
  { name: 'plain', tls: false },
  { name: 'STARTTLS + AUTH', tls: true },
].filter((m) => !m.tls || hasOpenssl);

let sink: Sink;
let url: string;
let secured = false;

function setup() {
  const dir = tempDir();
  const ctx = testContext(
    dir,
    { delivery: { connections: 3, retries: 3, backoffMs: 5, maxBackoffMs: 20 } },
    { smtpUrl: url },
  );
  const db = openStore(ctx.paths.store);
  const repo = new SubscriberRepo(db);
  repo.upsertMany(
    Object.keys(behaviour).map((email) => ({ email, name: `讀者 ${email.split('@')[0]}` })),
    'test',
  );
  return { dir, ctx, db, repo };
}

const transportFor = () =>
  createSmtpTransport(parseSmtpUrl(url), {
    connections: 3,
    timeoutMs: 10_000,
    maxMessagesPerConnection: 100,
  });

describe.each(modes)('send over SMTP ($name) to a scripted smtp-server', (mode) => {
  beforeAll(async () => {
    secured = mode.tls;
    behaviour['always451@example.com'] = always451;
    if (!mode.tls) {
      sink = await startSink((stage, rcpt, n) => behaviour[rcpt]?.(stage, n));
      url = sink.url;
      return;
    }
    const pki = makeTestPki();
    sink = await startSink((stage, rcpt, n) => behaviour[rcpt]?.(stage, n), { tls: pki.good, auth: AUTH });
    const cred = `${encodeURIComponent(AUTH.user)}:${encodeURIComponent(AUTH.pass)}`;
    url = `smtp://${cred}@127.0.0.1:${sink.port}?requireTLS=true&ca=${encodeURIComponent(pki.caFile)}`;
  });
  afterAll(() => sink?.close());

  it('retries 421/451 at RCPT and DATA and a dropped connection, bounces 5xx, defers what keeps failing', async () => {
    const { ctx, db, repo } = setup();
    sink.received.length = 0;
    sink.attempts.clear();
    const transport = transportFor();
    const s = await sendEdition(
      ctx,
      db,
      { editionId: EDITION, list: 'daily', listName: '每日簡報', digest },
      { transport },
    );
    await transport.close?.();

    const { byRecipient, byMessageId } = tally(sink.received);
    const delivered = ['ok', 'rcpt421', 'rcpt451', 'data451', 'data421', 'drop'].map(
      (n) => `${n}@example.com`,
    );
    for (const r of delivered) expect(byRecipient.get(r), r).toBe(1);
    for (const r of ['rcpt550', 'data550', 'always451'])
      expect(byRecipient.get(`${r}@example.com`), r).toBeUndefined();
    expect([...byMessageId.values()].every((n) => n === 1)).toBe(true);
    expect(s).toMatchObject({ total: 9, sent: 6, failed: 2, deferred: 1, suppressed: 0 });
    expect(s.retried).toBeGreaterThanOrEqual(2 + 1 + 1 + 1 + 1 + 3);
    expect(repo.get('rcpt550@example.com')!.status).toBe('bounced');
    expect(repo.get('data550@example.com')!.status).toBe('bounced');
    expect(repo.get('always451@example.com')!.status).toBe('active');
    expect(new Ledger(db).counts(EDITION)).toMatchObject({
      sent: 6,
      failed: 2,
      deferred: 1,
      committed: 0,
      queued: 0,
    });

    // What arrived is a complete message: text + HTML, merged for its reader — over TLS, logged in, when offered.
    const okMsg = sink.received.find((m) => m.to[0] === 'ok@example.com')!;
    expect(okMsg.secure).toBe(secured);
    expect(okMsg.user).toBe(secured ? AUTH.user : undefined);
    const parsed = await simpleParser(okMsg.raw);
    expect(parsed.text).toContain('讀者 ok，你好');
    expect(parsed.html).toContain('讀者 ok，你好');
    expect(parsed.html).toContain('https://news.example.com/broadsheet/u/');
    // Issue 15: the envelope sender is the reader's VERP address; the header From is unchanged.
    expect(parsed.from?.value[0]?.address).toBe('digest@news.example.com');
    expect(okMsg.from).toMatch(/^bounces\+[a-z2-7]{26}@news\.example\.com$/);
    expect(resolveVerp(db, [Buffer.from('test-secret')], tokenOfAddress(okMsg.from)!)).toEqual({
      edition: EDITION,
      subscriberId: repo.get('ok@example.com')!.id,
    });

    // Next run: only the deferred one is tried again; the server takes it now.
    sink.received.length = 0;
    behaviour['always451@example.com'] = () => undefined;
    const t2 = transportFor();
    const s2 = await sendEdition(
      ctx,
      db,
      { editionId: EDITION, list: 'daily', listName: '每日簡報', digest },
      { transport: t2 },
    );
    await t2.close?.();
    expect(s2).toMatchObject({ total: 1, sent: 1, failed: 0, deferred: 0 });
    expect(sink.received.map((m) => m.to[0])).toEqual(['always451@example.com']);

    // And a third run has nothing left: bounced addresses are never mailed again.
    const t3 = transportFor();
    const s3 = await sendEdition(
      ctx,
      db,
      { editionId: EDITION, list: 'daily', listName: '每日簡報', digest },
      { transport: t3 },
    );
    await t3.close?.();
    expect(s3.total).toBe(0);
    db.close();
  });

  it('refuses a second send of an edition that is already being sent', async () => {
    const { ctx, db } = setup();
    const other = openStore(ctx.paths.store);
    const held = acquireLease(other, `send:${EDITION}`, 60_000);
    expect('renew' in held).toBe(true);
    const transport = transportFor();
    const err = await sendEdition(
      ctx,
      db,
      { editionId: EDITION, list: 'daily', listName: '每日簡報', digest },
      { transport },
    ).catch((e: unknown) => e);
    await transport.close?.();
    expect(isBroadsheetError(err) && err.code).toBe('SEND_IN_PROGRESS');
    other.close();
    db.close();
  });

  it('suppresses a subscriber who unsubscribed after the edition was queued', async () => {
    const { ctx, db, repo } = setup();
    new Ledger(db).enqueue(EDITION, 'news.example.com');
    repo.setStatus('ok@example.com', 'unsubscribed', 'clicked');
    for (const k of Object.keys(behaviour)) if (k !== 'ok@example.com') repo.setStatus(k, 'complained');
    sink.received.length = 0;
    const transport = transportFor();
    const s = await sendEdition(
      ctx,
      db,
      { editionId: EDITION, list: 'daily', listName: '每日簡報', digest },
      { transport },
    );
    await transport.close?.();
    expect(s).toMatchObject({ sent: 0, suppressed: 9 });
    expect(sink.received).toHaveLength(0);
    db.close();
  });

  it('--dry-run renders and counts without sending or writing the ledger', async () => {
    const { ctx, db } = setup();
    sink.received.length = 0;
    const transport = transportFor();
    const s = await sendEdition(
      ctx,
      db,
      { editionId: EDITION, list: 'daily', listName: '每日簡報', digest },
      { transport, dryRun: true, limit: 4 },
    );
    await transport.close?.();
    expect(s).toMatchObject({ dryRun: true, rendered: 4, sent: 0 });
    expect(s.bytes).toBeGreaterThan(0);
    expect(sink.received).toHaveLength(0);
    expect(new Ledger(db).counts(EDITION).queued).toBe(0);
    expect(join(ctx.paths.store)).toContain('broadsheet.db');
    db.close();
  });
});
