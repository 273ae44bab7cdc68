// Which origins count as the app's own for the Origin check on POSTs: the
// request's Host (any scheme: a TLS proxy in front makes the browser say
// https), publicUrl's origin (a proxy that rewrites Host), X-Forwarded-Host only
// with review.trustProxy. Run against the app in-process with a real store;
// every case signs in and sends a valid CSRF token, so a 403 is the origin
// check's alone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReviewApp } from '../../src/review/app.ts';
import { type DB, openStore } from '../../src/store/db.ts';
import { EDITION, PASSWORD, reviewContext, writeEdition } from '../fixtures/review/edition.ts';
import { cookiesOf, csrfIn } from '../helpers/session.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

let dir: string;
let db: DB;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bs-review-origin-'));
  await writeEdition(join(dir, 'out'));
  db = openStore(join(dir, 'db.sqlite'));
});
afterAll(() => db?.close());

function appFor(trustProxy: boolean) {
  const ctx = reviewContext(dir, {
    publicUrl: 'https://news.example.com/broadsheet/',
    review: { trustProxy },
  });
  const app = createReviewApp(ctx, { db });
  const host = { host: '127.0.0.1:8787' };
  const signIn = async () => {
    const page = await app.request('http://127.0.0.1:8787/login', { headers: host });
    const pre = cookiesOf(page);
    const res = await app.request('http://127.0.0.1:8787/login', {
      method: 'POST',
      headers: { ...FORM, ...host, cookie: pre },
      body: new URLSearchParams({ _csrf: csrfIn(await page.text()), name: '校對', password: PASSWORD }),
    });
    const cookie = cookiesOf(res);
    const home = await app.request('http://127.0.0.1:8787/', { headers: { ...host, cookie } });
    return { cookie, csrf: csrfIn(await home.text()) };
  };
  const save = async (headers: Record<string, string>) => {
    const { cookie, csrf } = await signIn();
    const r = await app.request(`http://127.0.0.1:8787/e/${EDITION}/p/china-ai-2025-1/threads`, {
      method: 'POST',
      headers: { ...FORM, ...host, cookie, ...headers },
      body: new URLSearchParams({ _csrf: csrf, action: 'save', caption: 'x' }),
    });
    return r.status;
  };
  return { save };
}

describe('the Origin check', () => {
  it("accepts the request's own host (http or https) and publicUrl's origin; refuses the rest", async () => {
    const { save } = appFor(false);
    expect(await save({ origin: 'http://127.0.0.1:8787' })).toBe(303);
    expect(await save({ origin: 'https://127.0.0.1:8787' })).toBe(303);
    expect(await save({ origin: 'https://news.example.com', 'sec-fetch-site': 'same-origin' })).toBe(303);
    expect(await save({ 'sec-fetch-site': 'none' })).toBe(303);
    expect(await save({})).toBe(303);
    expect(await save({ origin: 'http://127.0.0.1:9999' })).toBe(403);
    expect(await save({ origin: 'https://news.example.com.evil.example' })).toBe(403);
    expect(await save({ origin: 'https://evil.example', 'x-forwarded-host': 'evil.example' })).toBe(403);
  });

  it('takes X-Forwarded-Host as our own only with review.trustProxy', async () => {
    const headers = { origin: 'https://desk.example.org', 'x-forwarded-host': 'desk.example.org' };
    expect(await appFor(false).save(headers)).toBe(403);
    expect(await appFor(true).save(headers)).toBe(303);
  });
});
