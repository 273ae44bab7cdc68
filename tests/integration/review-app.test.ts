import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appSecret } from '../../src/config/secret.ts';
import type { Context } from '../../src/context.ts';
import { v1Token } from '../../src/delivery/tokens.ts';
import { preferencesToken, unsubscribeToken } from '../../src/delivery/unsubscribe.ts';
import { createReviewApp } from '../../src/review/app.ts';
import { postKey } from '../../src/review/editions.ts';
import { runPublishQueue } from '../../src/review/publish.ts';
import { type DB, openStore } from '../../src/store/db.ts';
import { ReviewRepo } from '../../src/store/review.ts';
import { SubscriberRepo } from '../../src/store/subscribers.ts';
import {
  EDITION,
  PASSWORD,
  reviewContext,
  writeEdition,
  XSS_CAPTION,
  XSS_TITLE,
} from '../fixtures/review/edition.ts';
import { cookiesOf, csrfIn } from '../helpers/session.ts';

const BASE = 'http://127.0.0.1';
let dir: string;
let ctx: Context;
let db: DB;
let app: ReturnType<typeof createReviewApp>;

const merge = (a: string, b: string) => [a, b].filter(Boolean).join('; ');
const form = (v: Record<string, string>) => new URLSearchParams(v).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function signIn(name = '陳編輯', headers: Record<string, string> = {}) {
  const page = await app.request(`${BASE}/login`, { headers });
  const pre = cookiesOf(page);
  const res = await app.request(`${BASE}/login`, {
    method: 'POST',
    headers: { ...FORM, cookie: pre, ...headers },
    body: form({ _csrf: csrfIn(await page.text()), name, password: PASSWORD, next: '/' }),
  });
  const cookie = merge(pre, cookiesOf(res));
  const home = await app.request(`${BASE}/`, { headers: { cookie } });
  return { res, cookie, csrf: csrfIn(await home.text()) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bs-review-'));
  ctx = reviewContext(dir, { review: { login: { maxFailures: 3 }, publishers: ['folder'] } });
  await writeEdition(ctx.paths.out);
  db = openStore(ctx.paths.store);
  app = createReviewApp(ctx, { db });
});
afterAll(() => db?.close());

describe('access', () => {
  it('every page but /u/, /archive/, /login and assets needs a signed-in editor', async () => {
    for (const path of [
      '/',
      `/e/${EDITION}`,
      '/queue',
      `/e/${EDITION}/card/hostile-story/og.png`,
      `/e/${EDITION}/bundle.zip`,
    ]) {
      const r = await app.request(`${BASE}${path}`);
      expect(r.status, path).toBe(303);
      expect(r.headers.get('location')).toMatch(/^\/login\?next=/);
    }
    for (const path of [`/e/${EDITION}/p/hostile-story/x`, '/publish', '/logout']) {
      const r = await app.request(`${BASE}${path}`, {
        method: 'POST',
        headers: FORM,
        body: 'action=approve',
      });
      expect(r.status, path).toBe(401);
    }
    expect((await app.request(`${BASE}/login`)).status).toBe(200);
    expect((await app.request(`${BASE}/static/app.css`)).status).toBe(200);
  });

  it('a forged or altered session cookie is not a session', async () => {
    const { cookie } = await signIn();
    const forged = cookie.replace(/bs_session=([^.;]+)\.[^;]+/, 'bs_session=$1.AAAA');
    expect((await app.request(`${BASE}/`, { headers: { cookie: forged } })).status).toBe(303);
  });

  it('sign-in sets an HttpOnly, SameSite=Lax cookie; Secure behind https', async () => {
    const plain = await signIn();
    const set = plain.res.headers.getSetCookie().find((c) => c.startsWith('bs_session='))!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Lax/);
    expect(set).not.toMatch(/Secure/);
    const https = await signIn('李編輯', { 'x-forwarded-proto': 'https' });
    expect(https.res.headers.getSetCookie().find((c) => c.startsWith('bs_session='))).toMatch(/Secure/);
    // An https publicUrl: Secure on its host and on loopback (a local TLS proxy), not over plain http on the LAN.
    const sctx = reviewContext(dir, { publicUrl: 'https://news.example.com/broadsheet/' });
    const sapp = createReviewApp(sctx, { db });
    const cookieFor = async (host: string) => {
      const page = await sapp.request(`http://${host}/login`, { headers: { host } });
      const pre = cookiesOf(page);
      const res = await sapp.request(`http://${host}/login`, {
        method: 'POST',
        headers: { ...FORM, cookie: pre, host },
        body: form({ _csrf: csrfIn(await page.text()), name: '甲', password: PASSWORD }),
      });
      return res.headers.getSetCookie().find((c) => c.startsWith('bs_session='))!;
    };
    expect(await cookieFor('127.0.0.1:8787')).toMatch(/Secure/);
    expect(await cookieFor('news.example.com')).toMatch(/Secure/);
    expect(await cookieFor('192.168.1.5:8787')).not.toMatch(/Secure/);
  });

  it('POST without a CSRF token is 403, for sign-in too', async () => {
    const { cookie } = await signIn();
    const r = await app.request(`${BASE}/e/${EDITION}/p/hostile-story/x`, {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: form({ action: 'approve' }),
    });
    expect(r.status).toBe(403);
    const wrong = await app.request(`${BASE}/publish`, {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: form({ _csrf: 'nope' }),
    });
    expect(wrong.status).toBe(403);
    const login = await app.request(`${BASE}/login`, {
      method: 'POST',
      headers: FORM,
      body: form({ name: 'x', password: PASSWORD }),
    });
    expect(login.status).toBe(403);
    expect(
      new ReviewRepo(db).decision({ edition: EDITION, itemId: 'hostile-story', platform: 'x' }),
    ).toBeUndefined();
  });

  it('rate-limits failed sign-ins: 429 even with the right password, until the window passes', async () => {
    const page = await app.request(`${BASE}/login`);
    const cookie = cookiesOf(page);
    const csrf = csrfIn(await page.text());
    const attempt = (password: string) =>
      app.request(`${BASE}/login`, {
        method: 'POST',
        headers: { ...FORM, cookie },
        body: form({ _csrf: csrf, name: '試', password }),
      });
    for (let i = 0; i < 3; i++) expect((await attempt('wrong')).status).toBe(401);
    const limited = await attempt(PASSWORD);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    db.prepare('DELETE FROM login_failures').run();
    expect((await attempt(PASSWORD)).status).toBe(303);
  });
});

describe('gallery', () => {
  it('escapes hostile content and hostile caption edits in every page', async () => {
    const { cookie, csrf } = await signIn('<b>編輯</b>');
    const payload = '</textarea><script>alert(2)</script><img src=x onerror=alert(3)>';
    const r = await app.request(`${BASE}/e/${EDITION}/p/china-ai-patents-lead/threads`, {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: form({ _csrf: csrf, action: 'approve', caption: payload, format: 'portrait' }),
    });
    expect(r.status).toBe(303);
    for (const path of ['/', `/e/${EDITION}`, `/e/${EDITION}?status=approved`, '/queue']) {
      const html = await (await app.request(`${BASE}${path}`, { headers: { cookie } })).text();
      expect(html, path).not.toContain('<script>alert');
      expect(html, path).not.toMatch(/<img[^>]*onerror/);
      expect(html, path).not.toContain('<b>編輯</b>');
    }
    const gallery = await (await app.request(`${BASE}/e/${EDITION}`, { headers: { cookie } })).text();
    expect(gallery).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(gallery).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'.replace(/&quot;/g, '&quot;'));
    expect(gallery).toContain('&lt;/textarea&gt;&lt;script&gt;alert(2)');
    expect(gallery).toContain('&lt;b&gt;編輯&lt;/b&gt;');
    expect(XSS_TITLE).toContain('<script>');
    expect(XSS_CAPTION).toContain('onerror');
  });

  it('stores every choice with the editor and time; reject cancels the queue row; filters work', async () => {
    const { cookie, csrf } = await signIn('黃編輯');
    const post = (item: string, platform: string, v: Record<string, string>) =>
      app.request(`${BASE}/e/${EDITION}/p/${item}/${platform}`, {
        method: 'POST',
        headers: { ...FORM, cookie },
        body: form({ _csrf: csrf, ...v }),
      });
    expect((await post('china-ai-2025-1', 'x', { action: 'approve' })).status).toBe(303);
    const repo = new ReviewRepo(db);
    const k = { edition: EDITION, itemId: 'china-ai-2025-1', platform: 'x' };
    expect(repo.decision(k)).toMatchObject({
      status: 'approved',
      editor: '黃編輯',
      format: 'x',
      caption: null,
    });
    expect(repo.queue(EDITION).filter((q) => q.itemId === k.itemId)).toHaveLength(1);
    expect((await post('china-ai-2025-1', 'x', { action: 'reject' })).status).toBe(303);
    expect(repo.decision(k)?.status).toBe('rejected');
    expect(repo.queue(EDITION).filter((q) => q.itemId === k.itemId)).toHaveLength(0);
    const ev = repo.events(k);
    expect(ev.map((e) => e.action)).toEqual(['approve', 'reject']);
    expect(ev.every((e) => e.editor === '黃編輯' && !Number.isNaN(Date.parse(e.at)))).toBe(true);

    // An over-long X caption cannot be approved (X's weighted count: CJK counts 2).
    const long = '漢'.repeat(141);
    expect((await post('china-ai-2025-1', 'x', { action: 'approve', caption: long })).status).toBe(422);
    const rejected = await (
      await app.request(`${BASE}/e/${EDITION}?status=rejected&platform=x`, { headers: { cookie } })
    ).text();
    expect(rejected).toContain('id="p-china-ai-2025-1-x"');
    expect(rejected).not.toContain('id="p-china-ai-patents-lead-x"');
  });

  it('downloads the approved bundle as a zip: card, caption and JSON per platform', async () => {
    const { cookie } = await signIn();
    const r = await app.request(`${BASE}/e/${EDITION}/bundle.zip`, { headers: { cookie } });
    expect(r.headers.get('content-type')).toBe('application/zip');
    const files = unzipSync(new Uint8Array(await r.arrayBuffer()));
    const names = Object.keys(files).sort();
    expect(names).toContain(`threads/${EDITION}--china-ai-patents-lead/card.png`);
    expect(names).toContain('index.json');
    const meta = JSON.parse(
      new TextDecoder().decode(files[`threads/${EDITION}--china-ai-patents-lead/post.json`]!),
    );
    expect(meta).toMatchObject({ platform: 'threads', format: 'portrait', editor: '<b>編輯</b>' });
    expect([...files[`threads/${EDITION}--china-ai-patents-lead/card.png`]!.subarray(1, 4)]).toEqual([
      0x50, 0x4e, 0x47,
    ]);
  });
});

describe('unsubscribe (RFC 8058)', () => {
  let token: string;
  const subs = () => new SubscriberRepo(db);
  beforeAll(() => {
    subs().upsert({ email: 'reader@example.com', name: '讀者甲' }, 'test');
    subs().upsert({ email: 'other@example.com' }, 'test');
    token = unsubscribeToken([appSecret(ctx)], 'daily', subs().get('reader@example.com')!.id);
  });

  it('GET shows a confirm page with a form POST and changes nothing', async () => {
    const r = await app.request(`${BASE}/u/${token}`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain(`<form method="post">`);
    expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(html).not.toContain('reader@example.com');
    expect(subs().get('reader@example.com')?.status).toBe('active');
  });

  it('a forged or altered token is 400 and nothing changes', async () => {
    const otherId = subs().get('other@example.com')!.id;
    const forged = unsubscribeToken([Buffer.from('another secret')], 'daily', otherId);
    // v2 (opaque): an altered body or a body spelled with its spare bits set is refused.
    const [v, body] = token.split('.');
    const flip = (str: string, i: number) =>
      str.slice(0, i) + (str[i] === 'A' ? 'B' : 'A') + str.slice(i + 1);
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spare = `${v}.${body!.slice(0, -1)}${B64[B64.indexOf(body!.at(-1)!) ^ 1]}`;
    // An unsubscribe token's body replayed as another kind (a preferences token) is refused here too.
    const otherKind = preferencesToken([appSecret(ctx)], 'daily', otherId);
    const v2bad = [
      forged,
      `${v}.${flip(body!, 5)}`,
      `${v}.${flip(body!, body!.length - 3)}`,
      spare,
      `${token}x`,
      otherKind,
    ];
    // v1 (legacy, still accepted): the same forgeries as before issue 14.
    const legacy = v1Token(appSecret(ctx), 'daily', 'reader@example.com');
    const [payload, mac] = legacy.split('.');
    const other = Buffer.from(JSON.stringify({ l: 'daily', s: 'other@example.com' })).toString('base64url');
    // The MAC's last character also carries 2 spare bits: a sibling that differs only there decodes
    // to the same bytes, and must still be refused.
    const last = B64.indexOf(mac!.at(-1)!);
    const sibling = `${payload}.${mac!.slice(0, -1)}${B64[last ^ 1]}`;
    expect(Buffer.from(sibling.split('.')[1]!, 'base64url').equals(Buffer.from(mac!, 'base64url'))).toBe(
      true,
    );
    for (const t of [
      ...v2bad,
      v1Token(Buffer.from('another secret'), 'daily', 'other@example.com'),
      `${other}.${mac}`,
      `${payload}.${mac}x`,
      'garbage',
      `${payload}`,
      sibling,
      `${payload}=.${mac}`,
    ]) {
      const r = await app.request(`${BASE}/u/${t}`, {
        method: 'POST',
        headers: FORM,
        body: 'List-Unsubscribe=One-Click',
      });
      expect(r.status, t).toBe(400);
      expect((await app.request(`${BASE}/u/${t}`)).status).toBe(400);
    }
    expect(subs().get('other@example.com')?.status).toBe('active');
    expect(subs().get('reader@example.com')?.status).toBe('active');
  });

  it('POST List-Unsubscribe=One-Click unsubscribes without sign-in, idempotently, 200', async () => {
    const noBody = await app.request(`${BASE}/u/${token}`, { method: 'POST', headers: FORM, body: '' });
    expect(noBody.status).toBe(400);
    const r = await app.request(`${BASE}/u/${token}`, {
      method: 'POST',
      headers: FORM,
      body: 'List-Unsubscribe=One-Click',
    });
    expect(r.status).toBe(200);
    const first = subs().get('reader@example.com')!;
    expect(first.status).toBe('unsubscribed');
    const again = await app.request(`${BASE}/u/${token}`, {
      method: 'POST',
      headers: FORM,
      body: 'List-Unsubscribe=One-Click',
    });
    expect(again.status).toBe(200);
    expect(subs().get('reader@example.com')!.statusAt).toBe(first.statusAt);
    expect(subs().get('other@example.com')?.status).toBe('active');
  });

  it('accepts the one-click body as multipart or without a Content-Type too', async () => {
    subs().upsert({ email: 'multi@example.com' }, 'test');
    subs().upsert({ email: 'plain@example.com' }, 'test');
    const fd = new FormData();
    fd.set('List-Unsubscribe', 'One-Click');
    const multi = unsubscribeToken([appSecret(ctx)], 'daily', subs().get('multi@example.com')!.id);
    expect((await app.request(`${BASE}/u/${multi}`, { method: 'POST', body: fd })).status).toBe(200);
    // A v1 link from an email sent before issue 14 still works.
    const plain = v1Token(appSecret(ctx), 'daily', 'plain@example.com');
    const r = await app.request(
      new Request(`${BASE}/u/${plain}`, {
        method: 'POST',
        body: new TextEncoder().encode('List-Unsubscribe=One-Click'),
      }),
    );
    expect(r.status).toBe(200);
    expect(subs().get('multi@example.com')?.status).toBe('unsubscribed');
    expect(subs().get('plain@example.com')?.status).toBe('unsubscribed');
  });
});

describe('archive', () => {
  it('is public only once the edition was sent, and names nobody', async () => {
    expect((await app.request(`${BASE}/archive/${EDITION}`)).status).toBe(404);
    expect((await app.request(`${BASE}/archive/..%2F..%2Fetc`)).status).toBe(404);
    const id = subs().get('other@example.com')!.id;
    db.prepare(
      "INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at) VALUES (?, ?, ?, 'sent', '<m@x>', '', '')",
    ).run(EDITION, id, 'other@example.com');
    const r = await app.request(`${BASE}/archive/${EDITION}`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).not.toMatch(/%%[a-z_]+%%/);
    expect(html).not.toContain('other@example.com');
    expect(html).not.toContain('<script>');
    expect(html).toContain('讀者，早晨');
    expect(html).toContain(`href="http://127.0.0.1/archive/${EDITION}"`);
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
  });
  const subs = () => new SubscriberRepo(db);
});

describe('publish queue', () => {
  let receiver: Server;
  let url: string;
  const got: { key: string; sig: string; body: string }[] = [];
  let failNext = 1;
  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(503).end('try later');
          return;
        }
        got.push({
          key: String(req.headers['idempotency-key']),
          sig: String(req.headers['x-broadsheet-signature']),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it('folder + webhook: signed, retried after a 503, published once; a crash mid-send resends the same key', async () => {
    const wctx = reviewContext(dir, {
      review: {
        publishers: ['folder', 'webhook'],
        webhook: { url, backoffMs: 1, attempts: 3, includeImage: false },
      },
    });
    const wapp = createReviewApp(wctx, { db });
    const page = await wapp.request(`${BASE}/login`);
    const pre = cookiesOf(page);
    const login = await wapp.request(`${BASE}/login`, {
      method: 'POST',
      headers: { ...FORM, cookie: pre },
      body: form({ _csrf: csrfIn(await page.text()), name: '發佈員', password: PASSWORD }),
    });
    const cookie = merge(pre, cookiesOf(login));
    const csrf = csrfIn(await (await wapp.request(`${BASE}/`, { headers: { cookie } })).text());
    await wapp.request(`${BASE}/e/${EDITION}/p/china-ai-patents-lead/x`, {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: form({ _csrf: csrf, action: 'approve' }),
    });
    db.prepare("DELETE FROM publish_queue WHERE platform != 'x' OR item_id != 'china-ai-patents-lead'").run();
    const waits: number[] = [];
    const s1 = await runPublishQueue(wctx, {
      db,
      sleep: async (ms) => void waits.push(ms),
      random: () => 0.5,
    });
    expect(s1).toMatchObject({ published: 2, failed: 0, deferred: 0 });
    expect(waits).toHaveLength(1);
    expect(got).toHaveLength(1);
    const secret = appSecret(wctx);
    expect(got[0]!.sig).toBe(`sha256=${createHmac('sha256', secret).update(got[0]!.body).digest('hex')}`);
    const body = JSON.parse(got[0]!.body);
    expect(body).toMatchObject({
      key: got[0]!.key,
      platform: 'x',
      item: 'china-ai-patents-lead',
      editor: '發佈員',
    });
    const folder = join(wctx.paths.out, 'publish/x', `${EDITION}--china-ai-patents-lead`);
    expect(existsSync(join(folder, 'card.png'))).toBe(true);
    expect(readFileSync(join(folder, 'caption.txt'), 'utf8')).toContain('中國AI突飛猛進');
    expect(JSON.parse(readFileSync(join(folder, 'post.json'), 'utf8')).key).toBe(got[0]!.key);

    // Again: nothing left to do.
    expect(await runPublishQueue(wctx, { db })).toMatchObject({ published: 0 });
    expect(got).toHaveLength(1);
    // The gallery now says published and refuses changes.
    const gallery = await (
      await wapp.request(`${BASE}/e/${EDITION}?status=published`, { headers: { cookie } })
    ).text();
    expect(gallery).toContain('id="p-china-ai-patents-lead-x"');
    const locked = await wapp.request(`${BASE}/e/${EDITION}/p/china-ai-patents-lead/x`, {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: form({ _csrf: csrf, action: 'reject' }),
    });
    expect(locked.status).toBe(409);

    // A runner killed between "sending" and "published": the next run sends the same key again.
    db.prepare("UPDATE publish_queue SET state = 'sending' WHERE publisher = 'webhook'").run();
    const s3 = await runPublishQueue(wctx, { db });
    expect(s3).toMatchObject({ recovered: 1, published: 1 });
    expect(got).toHaveLength(2);
    expect(got[1]!.key).toBe(got[0]!.key);
  });

  it('a permanent 4xx marks the row failed without retrying', async () => {
    const bad = createServer((_q, res) => res.writeHead(400).end('bad'));
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
    try {
      const wctx = reviewContext(dir, {
        review: {
          publishers: ['webhook'],
          webhook: { url: `http://127.0.0.1:${(bad.address() as AddressInfo).port}/`, backoffMs: 1 },
        },
      });
      const repo = new ReviewRepo(db);
      const k = { edition: EDITION, itemId: 'china-ai-2025-1', platform: 'threads' };
      const key = postKey({
        ...k,
        format: 'portrait',
        caption: 'c',
        cardSha256: 'china-ai-2025-1-portrait-sha',
      });
      repo.approve(k, {
        editor: 'x',
        format: 'portrait',
        caption: 'c',
        edited: 'c',
        key,
        publishers: ['webhook'],
      });
      // An approval whose card changed since is refused too, without a request.
      repo.approve(
        { ...k, platform: 'x' },
        { editor: 'x', format: 'x', caption: 'c', edited: 'c', key: 'stale-key', publishers: ['webhook'] },
      );
      const s = await runPublishQueue(wctx, { db, sleep: async () => {} });
      expect(s).toMatchObject({ failed: 2, published: 0 });
      expect(
        db.prepare('SELECT state, attempts, last_error FROM publish_queue WHERE idem_key = ?').get(key),
      ).toEqual({
        state: 'failed',
        attempts: 1,
        last_error: expect.stringContaining('400'),
      });
      expect(
        db.prepare("SELECT state, last_error FROM publish_queue WHERE idem_key = 'stale-key'").get(),
      ).toEqual({
        state: 'failed',
        last_error: expect.stringContaining('changed since it was approved'),
      });
    } finally {
      await new Promise<void>((r) => bad.close(() => r()));
    }
  });
});

describe('publish lease', () => {
  it('a second runner is refused while one holds the queue', async () => {
    const { acquireLease, isLease } = await import('../../src/store/lease.ts');
    const lease = acquireLease(db, 'publish', 60_000);
    expect(isLease(lease)).toBe(true);
    try {
      await expect(runPublishQueue(ctx, { db })).rejects.toMatchObject({ code: 'PUBLISH_IN_PROGRESS' });
    } finally {
      if (isLease(lease)) lease.release();
    }
  });
});

describe('behind a proxy that keeps publicUrl’s path', () => {
  it('answers /u/ and /archive/ under the prefix too, and nothing else without sign-in', async () => {
    const pctx = reviewContext(dir, { publicUrl: 'https://news.example.com/broadsheet/' });
    const papp = createReviewApp(pctx, { db });
    new SubscriberRepo(db).upsert({ email: 'prefix@example.com' }, 'test');
    const token = unsubscribeToken(
      [appSecret(pctx)],
      'daily',
      new SubscriberRepo(db).get('prefix@example.com')!.id,
    );
    const get = await papp.request(`${BASE}/broadsheet/u/${token}`);
    expect(get.status).toBe(200);
    const html = await get.text();
    expect(html).toContain('<form method="post">');
    expect(html).toContain('href="../static/app.css"');
    const r = await papp.request(`${BASE}/broadsheet/u/${token}`, {
      method: 'POST',
      headers: FORM,
      body: 'List-Unsubscribe=One-Click',
    });
    expect(r.status).toBe(200);
    expect(new SubscriberRepo(db).get('prefix@example.com')?.status).toBe('unsubscribed');
    expect(
      (await papp.request(`${BASE}/broadsheet/archive/${EDITION}`)).headers.get('content-security-policy'),
    ).toMatch(/default-src 'none'/);
    expect((await papp.request(`${BASE}/broadsheet/queue`)).status).not.toBe(200);
  });
});

describe('a publisher that failed while another published', () => {
  it('keeps the text fixed and lets an editor retry by approving the same post again', async () => {
    let ok = false;
    const hook = createServer((_q, res) =>
      ok ? res.writeHead(200).end('ok') : res.writeHead(400).end('bad'),
    );
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const pctx = reviewContext(dir, {
        review: {
          publishers: ['folder', 'webhook'],
          webhook: { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`, includeImage: false },
        },
      });
      const papp = createReviewApp(pctx, { db });
      const page = await papp.request(`${BASE}/login`);
      const pre = cookiesOf(page);
      const login = await papp.request(`${BASE}/login`, {
        method: 'POST',
        headers: { ...FORM, cookie: pre },
        body: form({ _csrf: csrfIn(await page.text()), name: '重試員', password: PASSWORD }),
      });
      const cookie = merge(pre, cookiesOf(login));
      const csrf = csrfIn(await (await papp.request(`${BASE}/`, { headers: { cookie } })).text());
      const act = (action: string, caption?: string) =>
        papp.request(`${BASE}/e/${EDITION}/p/hostile-story/threads`, {
          method: 'POST',
          headers: { ...FORM, cookie },
          body: form({ _csrf: csrf, action, ...(caption ? { caption } : {}) }),
        });
      expect((await act('approve')).status).toBe(303);
      db.prepare(
        "DELETE FROM publish_queue WHERE NOT (item_id = 'hostile-story' AND platform = 'threads')",
      ).run();
      const s1 = await runPublishQueue(pctx, { db, sleep: async () => {} });
      expect(s1).toMatchObject({ published: 1, failed: 1 });
      const html = await (await papp.request(`${BASE}/e/${EDITION}`, { headers: { cookie } })).text();
      expect(html).toContain('重試發佈');
      expect((await act('reject')).status).toBe(409);
      expect((await act('approve', '改過的文案')).status).toBe(409);
      expect((await act('approve')).status).toBe(303);
      ok = true;
      const s2 = await runPublishQueue(pctx, { db, sleep: async () => {} });
      expect(s2).toMatchObject({ published: 1, failed: 0 });
      const states = db
        .prepare(
          "SELECT publisher, state FROM publish_queue WHERE item_id = 'hostile-story' AND platform = 'threads' ORDER BY publisher",
        )
        .all();
      expect(states).toEqual([
        { publisher: 'folder', state: 'published' },
        { publisher: 'webhook', state: 'published' },
      ]);
    } finally {
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });
});
