import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.ts';
import { createReviewApp } from '../../src/review/app.ts';
import { type DB, openStore } from '../../src/store/db.ts';
import { reviewContext } from '../fixtures/review/edition.ts';
import { ROOT } from '../helpers/cli.ts';

// The review app in-process over a real SQLite file and the outbox transport:
// pending signups expire after subscribers.pendingExpiryHours (a clock the test
// moves), and subscribers.allowedOrigins limits who may post the form.

const BASE = 'http://127.0.0.1';
const dbs: DB[] = [];

function setup(config: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'bs-signup-exp-'));
  const ctx: Context = reviewContext(dir, { subscribers: config });
  // The confirmation's templates are the project's own.
  ctx.paths.templates = join(ROOT, 'templates');
  let now = new Date('2025-12-10T00:00:00Z');
  ctx.clock = { now: () => now };
  const db = openStore(join(dir, 'db.sqlite'));
  dbs.push(db);
  const app = createReviewApp(ctx, { db });
  const post = (body: object, headers: Record<string, string> = {}) =>
    app.request(`${BASE}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const eml = (email: string) => join(ctx.paths.out, 'signups', 'outbox', `${email}.eml`);
  return { ctx, db, app, post, eml, advance: (h: number) => (now = new Date(now.getTime() + h * 3_600_000)) };
}

async function waitForFile(file: string) {
  const end = Date.now() + 20_000;
  while (!existsSync(file)) {
    if (Date.now() > end) throw new Error(`no ${file}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return readFileSync(file, 'latin1');
}

afterAll(() => {
  for (const d of dbs) d.close();
});

describe('pending signups expire', () => {
  it('a link older than pendingExpiryHours neither shows a button nor confirms; signing up again works', async () => {
    const t = setup({ pendingExpiryHours: 2 });
    expect((await t.post({ email: 'late@example.com' })).status).toBe(202);
    const raw = await waitForFile(t.eml('late@example.com'));
    // The text part is base64: decode the parts and find the link.
    const decoded = raw
      .split(/\r\n\r\n/)
      .map((p) => Buffer.from(p.replace(/\r\n/g, ''), 'base64').toString('utf8'))
      .join('\n');
    const token = /\/c\/(v2\.[A-Za-z0-9_-]+)/.exec(decoded)![1]!;
    expect((await t.app.request(`${BASE}/c/${token}`)).status).toBe(200);
    t.advance(3);
    expect((await t.app.request(`${BASE}/c/${token}`)).status).toBe(400);
    const r = await t.app.request(`${BASE}/c/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'confirm=yes',
    });
    expect(r.status).toBe(400);
    expect(t.db.prepare('SELECT count(*) FROM subscribers').pluck().get()).toBe(0);
    // A new signup purges the expired one and sends a fresh confirmation.
    expect((await t.post({ email: 'late@example.com' })).status).toBe(202);
    const end = Date.now() + 20_000;
    // The expired signup was scrubbed, not deleted: the new one is signup 2 (ids are never reused).
    while (!t.db.prepare('SELECT 1 FROM confirm_sends WHERE signup_id = 2').pluck().get()) {
      if (Date.now() > end) throw new Error('no second confirmation');
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(t.db.prepare('SELECT id, email FROM signups ORDER BY id').all()).toEqual([
      { id: 1, email: '' },
      { id: 2, email: 'late@example.com' },
    ]);
    // The old link still does nothing (it names signup 1, which expired).
    expect((await t.app.request(`${BASE}/c/${token}`)).status).toBe(400);
  }, 60_000);
});

describe('subscribers.allowedOrigins', () => {
  it('refuses other sites (403), accepts the listed one and the hosted form', async () => {
    const t = setup({ allowedOrigins: ['https://news.example.com'] });
    expect((await t.post({ email: 'a@example.com' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await t.post({ email: 'b@example.com' }, { origin: 'https://news.example.com' })).status).toBe(
      202,
    );
    // Our own page under Referrer-Policy: no-referrer posts Origin: null with Sec-Fetch-Site: same-origin.
    expect(
      (await t.post({ email: 'c@example.com' }, { origin: 'null', 'sec-fetch-site': 'same-origin' })).status,
    ).toBe(202);
    expect((await t.post({ email: 'd@example.com' }, { origin: 'null' })).status).toBe(403);
    // Without the setting, any site may post (the double opt-in is the protection).
    const open = setup({});
    expect(
      (await open.post({ email: 'e@example.com' }, { origin: 'https://elsewhere.example' })).status,
    ).toBe(202);
  }, 60_000);
});
