// Postmark, SendGrid and Mailgun event webhooks on the review app (in-process,
// a real store): each provider's documented payload, signed its way, changes
// the readers as the shared policy says (store/events.ts) and is recorded
// once; unsigned, forged, stale, replayed or wrongly keyed calls are 401 and
// change nothing; a provider without its secret is 404.
import { afterEach, describe, expect, it } from 'vitest';
import {
  appWith,
  basic,
  EDITION,
  fixture,
  MAILGUN_KEY,
  mailgunBody,
  makeStore,
  nowSeconds,
  POSTMARK_AUTH,
  type Store,
  sendgridHeaders,
  sendgridKeys,
} from '../fixtures/webhooks/setup.ts';

const URL_BASE = 'http://127.0.0.1:8787';
let store: Store;
afterEach(() => store?.db.close());

const unchanged = (s: Store) => {
  expect(s.events()).toEqual([]);
  expect(new Set(Object.values(s.statuses()))).toEqual(new Set(['active']));
};

describe('routing', () => {
  it('a provider without its secret, or no provider at all, is 404 and says nothing more', async () => {
    store = makeStore();
    const { app } = appWith(store, {});
    for (const p of ['postmark', 'sendgrid', 'mailgun', 'ses', 'nope']) {
      const r = await app.request(`${URL_BASE}/hooks/${p}`, { method: 'POST', body: '{}' });
      expect(r.status, p).toBe(404);
      expect(await r.text()).toBe('Not Found');
    }
    unchanged(store);
  });

  it('GET on a configured provider is 404 too (only POST is an event)', async () => {
    store = makeStore();
    const { app } = appWith(store, { MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY });
    expect((await app.request(`${URL_BASE}/hooks/mailgun`)).status).toBe(404);
  });
});

describe('Postmark (HTTP Basic in the webhook URL)', () => {
  const post = (app: ReturnType<typeof appWith>['app'], body: string, auth?: string) =>
    app.request(`${URL_BASE}/hooks/postmark`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
      body,
    });

  it('bounce, soft bounce, spam complaint, delivery and subscription change act on the right readers; opens are ignored; a retry changes nothing', async () => {
    store = makeStore();
    const { app } = appWith(store, { POSTMARK_WEBHOOK_AUTH: POSTMARK_AUTH });
    for (const f of ['bounce', 'soft', 'spam', 'delivery', 'subscription', 'open']) {
      const r = await post(app, fixture(`postmark-${f}.json`), basic(POSTMARK_AUTH));
      expect(r.status, f).toBe(200);
    }
    expect(store.statuses()).toMatchObject({
      hard: 'bounced',
      soft: 'active',
      angry: 'complained',
      leaver: 'unsubscribed',
      ok: 'active',
    });
    const ev = store.events();
    expect(ev.map((e) => e.kind)).toEqual([
      'bounce_hard',
      'bounce_soft',
      'complaint',
      'delivered',
      'unsubscribe',
    ]);
    expect(
      ev.every((e) => e.source === 'postmark' && e.edition === EDITION && e.subscriber_id !== null),
    ).toBe(true);
    // 64-bit bounce IDs are kept exactly, not rounded by JSON.parse.
    expect(ev[0]!.external_id).toBe('bounce:4323372036854775807');
    const again = await post(app, fixture('postmark-bounce.json'), basic(POSTMARK_AUTH));
    expect(await again.json()).toMatchObject({ recorded: 0, duplicates: 1 });
    expect(store.events()).toHaveLength(5);
  });

  it('two bounces whose 64-bit IDs differ past 2^53 are two events', async () => {
    store = makeStore();
    const { app } = appWith(store, { POSTMARK_WEBHOOK_AUTH: POSTMARK_AUTH });
    const a = fixture('postmark-soft.json');
    const b = a.replace('4323372036854775001', '4323372036854775002');
    expect(Number('4323372036854775001')).toBe(Number('4323372036854775002'));
    for (const body of [a, b]) expect((await post(app, body, basic(POSTMARK_AUTH))).status).toBe(200);
    expect(store.events().map((e) => e.external_id)).toEqual([
      'bounce:4323372036854775001',
      'bounce:4323372036854775002',
    ]);
  });

  it('no credentials, wrong password, another scheme → 401 with a Basic challenge; nothing changes', async () => {
    store = makeStore();
    const { app } = appWith(store, { POSTMARK_WEBHOOK_AUTH: POSTMARK_AUTH });
    for (const auth of [
      undefined,
      basic('postmark:wrong'),
      basic('other:s3cret pass'),
      `Bearer ${POSTMARK_AUTH}`,
      'Basic !!!',
    ]) {
      const r = await post(app, fixture('postmark-bounce.json'), auth);
      expect(r.status, String(auth)).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    unchanged(store);
  });

  it('a verified body that is not a Postmark record is 400 and changes nothing', async () => {
    store = makeStore();
    const { app } = appWith(store, { POSTMARK_WEBHOOK_AUTH: POSTMARK_AUTH });
    for (const body of ['not json', '[]', '{"RecordType":"Bounce"}'])
      expect((await post(app, body, basic(POSTMARK_AUTH))).status, body).toBe(400);
    unchanged(store);
  });
});

describe('SendGrid (Signed Event Webhook, ECDSA P-256)', () => {
  const keys = sendgridKeys();
  const env = { SENDGRID_WEBHOOK_PUBLIC_KEY: keys.publicB64 };
  const post = (app: ReturnType<typeof appWith>['app'], body: string, headers: Record<string, string>) =>
    app.request(`${URL_BASE}/hooks/sendgrid`, { method: 'POST', headers, body });

  it('a signed batch: bounce (hard), blocked (soft), deferred, delivered, spamreport, group_unsubscribe; processed/open/click ignored', async () => {
    store = makeStore();
    const { app } = appWith(store, env);
    const body = fixture('sendgrid-events.json');
    const r = await post(app, body, sendgridHeaders(body, keys.privateKey));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ recorded: 6, duplicates: 0, ignored: 3 });
    expect(store.statuses()).toMatchObject({
      ok: 'active',
      hard: 'bounced',
      soft: 'active',
      slow: 'active',
      angry: 'complained',
      leaver: 'unsubscribed',
      bystander: 'active',
    });
    expect(store.events().map((e) => [e.kind, e.external_id])).toEqual([
      ['delivered', 'JldC9f3XVTlK_oXSX9Iuyw=='],
      ['deferred', 'uTpAladEvbUf4edikd-F6w=='],
      ['bounce_hard', '6g4ZI7SA-xmRDv57GoPIPw=='],
      ['bounce_soft', 'b2V6cXR0X2Jsb2NrZWQ='],
      ['complaint', '37nvH5QBz858KGVYCM4uOA=='],
      ['unsubscribe', 'ahSCB7xYcXFb-hEaawsPRw=='],
    ]);
    // SendGrid retries a batch it thinks failed: the same events change nothing.
    const again = await post(app, body, sendgridHeaders(body, keys.privateKey));
    expect(await again.json()).toMatchObject({ recorded: 0, duplicates: 6 });
  });

  it('dropped events act by their reason', async () => {
    store = makeStore();
    const { app } = appWith(store, env);
    const body = JSON.stringify([
      {
        email: 'hard@example.com',
        timestamp: 1796025601,
        'smtp-id': '<x@y>',
        event: 'dropped',
        reason: 'Bounced Address',
        sg_event_id: 'd1',
        sg_message_id: 'm1',
      },
      {
        email: 'ok@example.com',
        timestamp: 1796025601,
        event: 'dropped',
        reason: 'Spam Content (if spam checker app enabled)',
        sg_event_id: 'd2',
        sg_message_id: 'm2',
      },
    ]);
    expect((await post(app, body, sendgridHeaders(body, keys.privateKey))).status).toBe(200);
    expect(store.events().map((e) => [e.kind, e.action])).toEqual([
      ['bounce_hard', 'bounced'],
      ['unknown', 'recorded'],
    ]);
    expect(store.statuses()).toMatchObject({ hard: 'bounced', ok: 'active' });
  });

  it('forged: altered body, another key, missing headers, stale or future timestamp → 401, nothing changes', async () => {
    store = makeStore();
    const { app } = appWith(store, env);
    const body = fixture('sendgrid-events.json');
    const good = sendgridHeaders(body, keys.privateKey);
    const other = sendgridKeys();
    const stale = String(Number(nowSeconds()) - 3600);
    const future = String(Number(nowSeconds()) + 3600);
    const cases: [string, string, Record<string, string>][] = [
      ['altered body', body.replace('"bounce"', '"delivered"'), good],
      ['other key', body, sendgridHeaders(body, other.privateKey)],
      ['no signature', body, { 'content-type': 'application/json' }],
      [
        'timestamp swapped',
        body,
        { ...good, 'x-twilio-email-event-webhook-timestamp': String(Number(nowSeconds()) + 1) },
      ],
      ['stale', body, sendgridHeaders(body, keys.privateKey, stale)],
      ['future', body, sendgridHeaders(body, keys.privateKey, future)],
      [
        'garbage signature',
        body,
        { ...good, 'x-twilio-email-event-webhook-signature': 'AAAAAAAAAAAAAAAAAAAAAAAA' },
      ],
    ];
    for (const [name, b, h] of cases) expect((await post(app, b, h)).status, name).toBe(401);
    unchanged(store);
  });

  it('a key that is not an EC public key stops the app at start with WEBHOOK_SECRET_INVALID', () => {
    store = makeStore();
    expect(() => appWith(store, { SENDGRID_WEBHOOK_PUBLIC_KEY: 'bm90IGEga2V5' })).toThrowError(
      expect.objectContaining({ code: 'WEBHOOK_SECRET_INVALID', exitCode: 2 }),
    );
  });
});

describe('Mailgun (HMAC-SHA256 of timestamp + token)', () => {
  const env = { MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY };
  const post = (app: ReturnType<typeof appWith>['app'], body: string) =>
    app.request(`${URL_BASE}/hooks/mailgun`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
  const ev = (name: string) => JSON.parse(fixture(`mailgun-${name}.json`));

  it('failed (permanent, temporary), complained and opened map as documented and attribute by message-id', async () => {
    store = makeStore();
    const { app } = appWith(store, env);
    for (const f of ['failed', 'temporary', 'complained', 'opened'])
      expect((await post(app, mailgunBody(ev(f)))).status, f).toBe(200);
    expect(store.statuses()).toMatchObject({
      hard: 'bounced',
      soft: 'active',
      angry: 'complained',
      ok: 'active',
    });
    const rows = store.events();
    expect(rows.map((e) => [e.kind, e.external_id, e.action])).toEqual([
      ['bounce_hard', 'G9Bn5sl1TC6nu79C8C0bwg', 'bounced'],
      ['bounce_soft', 'Fs7-5t81S2ecz6Mt0tr9qw', 'counted'],
      ['complaint', '-Agny091SquKnsrW2NEKUA', 'complained'],
    ]);
    expect(rows.every((e) => e.edition === EDITION)).toBe(true);
  });

  it('the same event re-signed (Mailgun retrying) is recorded once; delivered and unsubscribed act', async () => {
    store = makeStore();
    const { app } = appWith(store, env);
    const delivered = {
      event: 'delivered',
      id: 'dlv-1',
      timestamp: 1796025601.5,
      recipient: 'ok@example.com',
      message: { headers: { 'message-id': 'ok.daily-2025-12-10@news.example.com' } },
    };
    const unsub = {
      event: 'unsubscribed',
      id: 'uns-1',
      timestamp: 1796025602.5,
      recipient: 'leaver@example.com',
      message: { headers: {} },
    };
    for (const e of [delivered, delivered, unsub]) expect((await post(app, mailgunBody(e))).status).toBe(200);
    expect(store.events().map((e) => e.kind)).toEqual(['delivered', 'unsubscribe']);
    // leaver is found by recipient (no message-id in the event)
    expect(store.statuses().leaver).toBe('unsubscribed');
  });

  it('/hooks/ has its own body limit: a batch over review.limits.bodyBytes is taken, one over webhooks.maxBodyBytes is 413 and changes nothing', async () => {
    store = makeStore();
    const { app } = appWith(store, env, {
      review: { limits: { bodyBytes: 4096 } },
      webhooks: { maxBodyBytes: 65_536 },
    });
    // Larger than the app's limit, within the webhooks' one: processed.
    expect((await post(app, mailgunBody({ ...ev('failed'), padding: 'x'.repeat(8000) }))).status).toBe(200);
    expect(store.events()).toHaveLength(1);
    store = makeStore();
    const { app: app2 } = appWith(store, env, {
      review: { limits: { bodyBytes: 4096 } },
      webhooks: { maxBodyBytes: 65_536 },
    });
    const big = { ...ev('failed'), id: 'big-one', padding: 'x'.repeat(70_000) };
    expect((await post(app2, mailgunBody(big))).status).toBe(413);
    unchanged(store);
  });

  it('soft bounces follow the one policy (inbound.softBounceLimit / softBounceWindowDays)', async () => {
    store = makeStore();
    const { app } = appWith(store, env, { inbound: { softBounceLimit: 2 } });
    const temp = ev('temporary');
    expect((await post(app, mailgunBody(temp))).status).toBe(200);
    expect(store.statuses().soft).toBe('active');
    expect((await post(app, mailgunBody({ ...temp, id: 'second-temporary' }))).status).toBe(200);
    expect(store.events().map((e) => e.action)).toEqual(['counted', 'bounced']);
    expect(store.statuses().soft).toBe('bounced');
  });

  it('wrong key, altered signature, stale timestamp, replayed token, no signature → 401; nothing changes', async () => {
    store = makeStore();
    const { app } = appWith(store, env);
    const failed = ev('failed');
    const replay = mailgunBody(ev('complained'), { token: 'a'.repeat(50) });
    expect((await post(app, replay)).status).toBe(200);
    const before = store.events();
    const statuses = store.statuses();
    const stale = String(Number(nowSeconds()) - 600);
    const tampered = JSON.parse(mailgunBody(failed));
    tampered.signature.signature = tampered.signature.signature.replace(/^./, (c: string) =>
      c === '0' ? '1' : '0',
    );
    const cases: [string, string][] = [
      ['wrong key', mailgunBody(failed, { key: 'key-someone-else-000000000000' })],
      ['tampered', JSON.stringify(tampered)],
      ['stale', mailgunBody(failed, { timestamp: stale })],
      ['replayed token', replay],
      ['no signature', JSON.stringify({ 'event-data': failed })],
      ['not json', 'signature=abc'],
    ];
    for (const [name, body] of cases) expect((await post(app, body)).status, name).toBe(401);
    expect(store.events()).toEqual(before);
    expect(store.statuses()).toEqual(statuses);
    expect(statuses.hard).toBe('active');
  });
});
