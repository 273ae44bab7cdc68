import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appSecret } from '../../src/config/secret.ts';
import type { Context } from '../../src/context.ts';
import { unsubscribeToken } from '../../src/delivery/unsubscribe.ts';
import { collectReport } from '../../src/report/collect.ts';
import { createReviewApp } from '../../src/review/app.ts';
import type { DB } from '../../src/store/db.ts';
import { HOSTILE_TITLE, LEAD_TITLE, writeManifest } from '../fixtures/report/manifest.ts';
import { EDITION, fillStore, OLDER } from '../fixtures/report/store.ts';
import { PASSWORD, reviewContext } from '../fixtures/review/edition.ts';
import { cookiesOf, csrfIn } from '../helpers/session.ts';

// The report pages of the review app over HTTP (app.request), and the
// one-click unsubscribe recording its mail event for the report.

const BASE = 'http://127.0.0.1';
let ctx: Context;
let db: DB;
let app: ReturnType<typeof createReviewApp>;
let cookie = '';

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bs-report-app-'));
  ctx = reviewContext(dir, { timezone: 'Asia/Hong_Kong' });
  db = fillStore(ctx.paths.store);
  writeManifest(ctx.paths.out);
  app = createReviewApp(ctx, { db });
  const page = await app.request(`${BASE}/login`);
  const pre = cookiesOf(page);
  const res = await app.request(`${BASE}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: pre },
    body: new URLSearchParams({
      _csrf: csrfIn(await page.text()),
      name: '陳編輯',
      password: PASSWORD,
      next: '/',
    }).toString(),
  });
  cookie = [pre, cookiesOf(res)].filter(Boolean).join('; ');
});
afterAll(() => db?.close());

const get = (path: string, signedIn = true) =>
  app.request(`${BASE}${path}`, { headers: signedIn ? { cookie } : {} });

describe('/report', () => {
  it('is for editors: signed out, every report URL redirects to /login', async () => {
    for (const path of ['/report', `/report/${EDITION}`, '/report/report.css']) {
      const r = await get(path, false);
      expect(r.status, path).toBe(303);
      expect(r.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
  });

  it('/report/<edition>: the numbers, stories with escaped titles, and the chart inline', async () => {
    const r = await get(`/report/${EDITION}`);
    expect(r.status).toBe(200);
    const page = await r.text();
    expect(r.headers.get('content-security-policy')).toContain("style-src 'self'");
    expect(page).not.toMatch(/\sstyle="/); // the CSP would block it
    const stat = (label: string) =>
      new RegExp(`<dt>${label}</dt><dd><span class="n">([^<]+)</span>`).exec(page)?.[1];
    expect(stat('已發送')).toBe('12');
    expect(stat('送達')).toBe('10');
    expect(stat('硬退回')).toBe('3');
    expect(stat('軟退回')).toBe('1');
    expect(stat('投訴')).toBe('1');
    expect(stat('取消訂閱')).toBe('2');
    expect(stat('獨立點擊者')).toBe('4');
    expect(stat('點擊率')).toBe('40.0 %');
    expect(page).toContain('role="alert"'); // complaint rate above 0.3 %
    expect(page).toContain(LEAD_TITLE);
    expect(page).not.toContain(HOSTILE_TITLE);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const svg = /<svg xmlns[\s\S]*?<\/svg>/.exec(page)?.[0] ?? '';
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('<title id="clicks-48h-t">');
    expect(svg.match(/<rect /g)).toHaveLength(4); // hours 0, 1, 2 and 5
    const css = await get('/report/report.css');
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('/report lists the last editions; an unknown edition is 404 naming those sent', async () => {
    const list = await (await get('/report?last=5')).text();
    expect(list).toContain(`href="/report/${EDITION}"`);
    expect(list).toContain(`href="/report/${OLDER}"`);
    const r = await get('/report/daily-1999-01-01');
    expect(r.status).toBe(404);
    expect(await r.text()).toContain(`${EDITION}、${OLDER}`);
  });
});

describe('one-click unsubscribe', () => {
  it('is recorded as a link event of the reader’s latest edition, once', async () => {
    const before = collectReport(db, EDITION).unsubscribed;
    const token = unsubscribeToken([appSecret(ctx)], 'daily', 8);
    const post = () =>
      app.request(`${BASE}/u/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    const after = collectReport(db, EDITION).unsubscribed;
    expect(after.count).toBe(before.count + 1);
    expect(after.bySource.link).toBe((before.bySource.link ?? 0) + 1);
    expect(db.prepare('SELECT status, status_reason FROM subscribers WHERE id = 8').get()).toEqual({
      status: 'unsubscribed',
      status_reason: 'one-click (daily)',
    });
    expect(db.prepare('SELECT count(*) FROM mail_events WHERE subscriber_id = 8').pluck().get()).toBe(1);
  });
});
