// Readers' routes of `serve` on a PostgreSQL store (issue 17): TWO real
// `broadsheet serve` replicas on one fresh database, as behind a load
// balancer, a loopback SMTP sink for the confirmation mail. A signup on A is
// confirmed on B; preferences saved on B are read on A; the one-click
// unsubscribe is idempotent across replicas; click redirects and the open
// pixel are recorded (scanners flagged); a signed Mailgun webhook records an
// event and applies the policy, its retry on the other replica is a duplicate.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueClick, issueOpen } from '../../src/analytics/token.ts';
import { tokenKeys } from '../../src/delivery/tokens.ts';
import { preferencesToken, unsubscribeToken } from '../../src/delivery/unsubscribe.ts';
import { type Sink, startSink } from '../fixtures/delivery/sink.ts';
import { fixture as hookFixture, MAILGUN_KEY, mailgunBody } from '../fixtures/webhooks/setup.ts';
import { workspaceArgs } from '../helpers/cli.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';
import { startServe, stopServe } from '../helpers/serve.ts';

const pgOk = await needsPostgres();
const FORM = 'application/x-www-form-urlencoded';
const SECRET = 'readers-pg-secret-0123456789abcdef';
const KEYS = tokenKeys(Buffer.from(SECRET), {});
const EDITION = 'daily-2025-12-10';

let db: PgTestDb;
let client: pg.Client;
let sink: Sink;
let dir: string;
const procs: ChildProcess[] = [];
let A: string;
let B: string;

const q = async <T extends pg.QueryResultRow>(sql: string, args: unknown[] = []) =>
  (await client.query<T>(sql, args)).rows;

async function waitFor<T>(f: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const form = (base: string, path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, ...headers },
    body,
  });

describe.skipIf(!pgOk)("readers' routes on two serve replicas sharing PostgreSQL", () => {
  let reader: number;

  beforeAll(async () => {
    db = await freshPgDatabase();
    sink = await startSink();
    dir = mkdtempSync(join(tmpdir(), 'bs-readers-pg-'));
    writeFileSync(
      join(dir, 'broadsheet.config.yaml'),
      [
        'subscribers:',
        '  perIpPerHour: 20',
        '  perAddressPerDay: 3',
        '  topics: [科技, 財經]',
        'analytics:',
        '  openPixel: true',
        '',
      ].join('\n'),
    );
    const env = {
      BROADSHEET_SECRET: SECRET,
      BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
      SMTP_URL: sink.url,
      MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
    };
    const args = workspaceArgs(dir, db.url);
    // One at a time: the first migrates the empty database.
    const a = await startServe(args, env);
    const b = await startServe(args, env);
    procs.push(a.proc, b.proc);
    A = a.base;
    B = b.base;
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) await stopServe(p);
    await client?.end();
    await sink?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signup on A → the confirmation at the sink → GET on B changes nothing → POST on B makes the reader active', async () => {
    const r = await form(
      A,
      '/subscribe',
      'email=Lam.Tai%40example.com&name=%E6%9E%97&topics=%E7%A7%91%E6%8A%80',
    );
    expect(r.status).toBe(202);
    const m = await waitFor(() => sink.received.find((x) => x.to.includes('lam.tai@example.com')));
    const mail = await simpleParser(m.raw);
    const token = /https?:\/\/\S+\/c\/(v2\.[A-Za-z0-9_-]+)/.exec(mail.text!)![1]!;
    expect(await waitFor(async () => (await q('SELECT state FROM confirm_sends'))[0])).toEqual({
      state: 'sent',
    });

    // The same address again while pending (on B): the same answer, no second mail.
    expect((await form(B, '/subscribe', 'email=lam.tai%40example.com')).status).toBe(202);

    const page = await fetch(`${B}/c/${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="confirm" value="yes"');
    expect(await q('SELECT id FROM subscribers')).toEqual([]);

    expect((await form(B, `/c/${token}`, 'confirm=yes')).status).toBe(200);
    const subs = await q<{ id: number; email: string; status: string; name: string; topics: string }>(
      'SELECT id::int AS id, email, status, name, topics FROM subscribers',
    );
    expect(subs).toEqual([
      {
        id: expect.any(Number),
        email: 'lam.tai@example.com',
        status: 'active',
        name: '林',
        topics: '["科技"]',
      },
    ]);
    reader = subs[0]!.id;
    const consent = await q<{
      source: string;
      list: string;
      confirmed_at: string | null;
      ip_hash: string | null;
    }>('SELECT source, list, confirmed_at, ip_hash FROM consent');
    expect(consent).toEqual([
      { source: 'form', list: 'daily', confirmed_at: expect.any(String), ip_hash: expect.any(String) },
    ]);
    // The signup row keeps no address once confirmed; a second confirm (on A) is harmless.
    expect(await q("SELECT count(*)::int AS n FROM signups WHERE email <> ''")).toEqual([{ n: 0 }]);
    expect((await form(A, `/c/${token}`, 'confirm=yes')).status).toBe(200);
    expect(await q('SELECT count(*)::int AS n FROM consent')).toEqual([{ n: 1 }]);
    // Already active: a new signup sends nothing (one confirmation mail in all).
    expect((await form(A, '/subscribe', 'email=lam.tai%40example.com')).status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.received.filter((x) => x.to.includes('lam.tai@example.com'))).toHaveLength(1);
  });

  it('one link confirmed on A and B at the same moment makes one reader and one consent record', async () => {
    expect((await form(A, '/subscribe', 'email=twice%40example.com')).status).toBe(202);
    const m = await waitFor(() => sink.received.find((x) => x.to.includes('twice@example.com')));
    const token = /https?:\/\/\S+\/c\/(v2\.[A-Za-z0-9_-]+)/.exec((await simpleParser(m.raw)).text!)![1]!;
    const answers = await Promise.all([A, B, A, B].map((base) => form(base, `/c/${token}`, 'confirm=yes')));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(
      await q(
        "SELECT s.status, count(c.id)::int AS consents FROM subscribers s JOIN consent c ON c.subscriber_id = s.id WHERE s.email = 'twice@example.com' GROUP BY s.status",
      ),
    ).toEqual([{ status: 'active', consents: 1 }]);
  });

  it('preferences saved on B are stored and shown on A', async () => {
    const token = preferencesToken(KEYS, 'daily', reader);
    const r = await form(B, `/p/${token}`, 'name=Tai&locale=en-GB&topics=%E8%B2%A1%E7%B6%93', {
      'sec-fetch-site': 'same-origin',
    });
    expect(r.status).toBe(303);
    expect(await q('SELECT name, locale, topics FROM subscribers WHERE id = $1', [reader])).toEqual([
      { name: 'Tai', locale: 'en-GB', topics: '["財經"]' },
    ]);
    const page = await fetch(`${A}/p/${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('value="Tai"');
    expect((await fetch(`${A}/p/${token}x`)).status).toBe(400);
  });

  it('/u/: GET changes nothing; POST on A unsubscribes with one event; the repeat on B changes nothing', async () => {
    await client.query(
      `INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at, sent_at)
       VALUES ($1, $2, 'lam.tai@example.com', 'sent', '<m1@news.example.com>', $3, $3, $3)`,
      [EDITION, reader, '2025-12-10T00:12:30.000Z'],
    );
    const token = unsubscribeToken(KEYS, 'daily', reader);
    expect((await fetch(`${A}/u/${token}`)).status).toBe(200);
    expect(await q('SELECT status FROM subscribers WHERE id = $1', [reader])).toEqual([{ status: 'active' }]);
    // A mail provider's one-click and the reader's own click, on both replicas at once.
    const posts = await Promise.all(
      [A, B, A, B].map((base) => form(base, `/u/${token}`, 'List-Unsubscribe=One-Click')),
    );
    expect(posts.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await q('SELECT status, status_reason FROM subscribers WHERE id = $1', [reader])).toEqual([
      { status: 'unsubscribed', status_reason: 'one-click (daily)' },
    ]);
    expect(await q('SELECT kind, source, edition, action FROM mail_events')).toEqual([
      { kind: 'unsubscribe', source: 'link', edition: EDITION, action: 'unsubscribed' },
    ]);
    expect((await form(A, '/u/v2.forged', 'List-Unsubscribe=One-Click')).status).toBe(400);
  });

  it('/r/ redirects and records the click (HEAD and a scanner agent flagged); /o/ records an open', async () => {
    const url = 'https://news.example.com/2025/12/10/ai.html';
    const token = issueClick(KEYS, { edition: EDITION, story: 'ai', url });
    const browser = { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605.1.15' };
    const r = await fetch(`${A}/r/${token}`, { redirect: 'manual', headers: browser });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toMatch(/^https:\/\/news\.example\.com\/2025\/12\/10\/ai\.html/);
    expect(
      (await fetch(`${B}/r/${token}`, { method: 'HEAD', redirect: 'manual', headers: browser })).status,
    ).toBe(302);
    const scanned = await fetch(`${B}/r/${token}`, {
      redirect: 'manual',
      headers: { 'user-agent': 'Barracuda/1.0' },
    });
    expect(scanned.status).toBe(302);
    expect(await q('SELECT story, method, scanner::int AS scanner FROM clicks ORDER BY id')).toEqual([
      { story: 'ai', method: 'GET', scanner: 0 },
      { story: 'ai', method: 'HEAD', scanner: 1 },
      { story: 'ai', method: 'GET', scanner: 1 },
    ]);
    // A forged link is a 404 page pointing at the archive of the newest send run (none yet: the site).
    expect((await fetch(`${A}/r/${token.slice(0, -2)}xx`, { redirect: 'manual' })).status).toBe(404);

    const pixel = await fetch(`${B}/o/${issueOpen(KEYS, EDITION)}.gif`, { headers: browser });
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get('content-type')).toBe('image/gif');
    expect(await q('SELECT edition FROM opens')).toEqual([{ edition: EDITION }]);
  });

  it('a signed Mailgun webhook on A records a hard bounce and bounces the reader; its retry on B is a duplicate', async () => {
    await client.query(
      `INSERT INTO subscribers (email, topics, status, source, created_at, updated_at)
       VALUES ('hard@example.com', '[]', 'active', 'test', $1, $1)`,
      ['2025-12-01T00:00:00.000Z'],
    );
    const [{ id }] = (await q<{ id: number }>(
      "SELECT id::int AS id FROM subscribers WHERE email = 'hard@example.com'",
    )) as [{ id: number }];
    await client.query(
      `INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at, sent_at)
       VALUES ($1, $2, 'hard@example.com', 'sent', '<hard.daily-2025-12-10@news.example.com>', $3, $3, $3)`,
      [EDITION, id, '2025-12-10T00:12:30.000Z'],
    );
    const event = JSON.parse(hookFixture('mailgun-failed.json'));
    const call = (base: string) =>
      fetch(`${base}/hooks/mailgun`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: mailgunBody(event),
      });
    const first = await call(A);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ recorded: 1, duplicates: 0 });
    const again = await call(B);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ recorded: 0, duplicates: 1 });
    expect(
      await q(
        "SELECT kind, source, subscriber_id::int AS subscriber, edition, action FROM mail_events WHERE source = 'mailgun'",
      ),
    ).toEqual([
      { kind: 'bounce_hard', source: 'mailgun', subscriber: id, edition: EDITION, action: 'bounced' },
    ]);
    expect(await q('SELECT status FROM subscribers WHERE id = $1', [id])).toEqual([{ status: 'bounced' }]);
    expect(await q('SELECT reason FROM suppression')).toEqual([{ reason: 'bounced' }]);
    // Unsigned: refused, nothing changes.
    const forged = await fetch(`${A}/hooks/mailgun`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 'event-data': event }),
    });
    expect(forged.status).toBe(401);
    expect(await q('SELECT count(*)::int AS n FROM mail_events')).toEqual([{ n: 2 }]);
  });
});
