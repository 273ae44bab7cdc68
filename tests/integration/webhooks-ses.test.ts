// Amazon SES events through SNS, against the review app (in-process, a real
// store) and a loopback https server standing in for SNS: it serves the
// signing certificate (its TLS certificate from a test CA made by openssl,
// trusted through webhooks.ses.certCaFile) and answers the SubscribeURL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appWith,
  EDITION,
  type FakeSns,
  fixture,
  makeStore,
  type Store,
  sesConfig,
  startFakeSns,
  TOPIC,
} from '../fixtures/webhooks/setup.ts';
import { needs } from '../helpers/system.ts';

const URL_BASE = 'http://127.0.0.1:8787';

describe.skipIf(!needs('openssl', 'openssl'))('SES via SNS', () => {
  let sns: FakeSns;
  beforeAll(async () => {
    sns = await startFakeSns();
  });
  afterAll(() => sns?.close());

  const setup = (extra: Record<string, unknown> = {}) => {
    const store = makeStore();
    const { app } = appWith(store, {}, sesConfig(sns, extra));
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      app.request(`${URL_BASE}/hooks/ses`, {
        method: 'POST',
        // SNS posts JSON as text/plain.
        headers: { 'content-type': 'text/plain; charset=UTF-8', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    return { store, post };
  };
  const notification = (name: string, version: '1' | '2' = '1') =>
    sns.envelope({ Type: 'Notification', Message: fixture(`ses-${name}.json`) }, version);
  const unchanged = (s: Store) => {
    expect(s.events()).toEqual([]);
    expect(new Set(Object.values(s.statuses()))).toEqual(new Set(['active']));
  };

  it('Bounce (Permanent), Complaint, Delivery, DeliveryDelay signed v1 and v2 act on the right readers; Open is ignored; a redelivery is a duplicate', async () => {
    const { store, post } = setup();
    const bounce = notification('bounce', '1');
    for (const m of [
      bounce,
      notification('complaint', '2'),
      notification('delivery', '2'),
      notification('delivery-delay', '1'),
      notification('open'),
    ]) {
      const r = await post(m, { 'x-amz-sns-message-type': 'Notification' });
      expect(r.status, m.Message.slice(0, 40)).toBe(200);
    }
    expect(store.statuses()).toMatchObject({
      hard: 'bounced',
      angry: 'complained',
      ok: 'active',
      slow: 'active',
    });
    const ev = store.events();
    expect(ev.map((e) => [e.kind, e.action])).toEqual([
      ['bounce_hard', 'bounced'],
      ['complaint', 'complained'],
      ['delivered', 'recorded'],
      ['deferred', 'recorded'],
    ]);
    expect(ev[0]!.external_id).toBe(bounce.MessageId);
    expect(ev.every((e) => e.source === 'ses' && e.edition === EDITION)).toBe(true);
    expect(await (await post(bounce)).json()).toMatchObject({ recorded: 0, duplicates: 1 });
    // the certificate was fetched once and then cached
    expect(sns.hits.filter((h) => h.endsWith('.pem'))).toHaveLength(1);
  });

  it('a Transient bounce counts as soft', async () => {
    const { store, post } = setup();
    const msg = fixture('ses-bounce.json')
      .replace('"Permanent"', '"Transient"')
      .replace('"General"', '"MailboxFull"');
    expect((await post(sns.envelope({ Type: 'Notification', Message: msg }))).status).toBe(200);
    expect(store.events().map((e) => [e.kind, e.action])).toEqual([['bounce_soft', 'counted']]);
    expect(store.statuses().hard).toBe('active');
  });

  it('forged or out-of-policy messages → 401 and nothing changes', async () => {
    const { store, post } = setup();
    const good = notification('bounce');
    const swapped = { ...good, Message: fixture('ses-complaint.json') };
    const otherTopic = sns.envelope({
      Type: 'Notification',
      Message: fixture('ses-bounce.json'),
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:someone-else',
    });
    const httpCert = sns.envelope({
      Type: 'Notification',
      Message: fixture('ses-bounce.json'),
      SigningCertURL: sns.certUrl.replace('https:', 'http:'),
    });
    const otherHost = sns.envelope({
      Type: 'Notification',
      Message: fixture('ses-bounce.json'),
      SigningCertURL: sns.certUrl.replace('127.0.0.1', 'localhost'),
    });
    const stale = sns.envelope({
      Type: 'Notification',
      Message: fixture('ses-bounce.json'),
      Timestamp: new Date(Date.now() - 2 * 3600_000).toISOString(),
    });
    const cases: [string, unknown, Record<string, string>?][] = [
      ['message swapped', swapped],
      ['signature of another message', { ...good, Signature: notification('delivery').Signature }],
      ['topic not configured', otherTopic],
      ['cert over http', httpCert],
      ['cert on another host', otherHost],
      ['stale', stale],
      ['version 3', { ...good, SignatureVersion: '3' }],
      ['no signature', { ...good, Signature: undefined }],
      ['header disagrees', good, { 'x-amz-sns-message-type': 'SubscriptionConfirmation' }],
      ['raw SES JSON (raw delivery on)', fixture('ses-bounce.json')],
      ['not json', 'Type=Notification'],
    ];
    for (const [name, body, headers] of cases) expect((await post(body, headers)).status, name).toBe(401);
    unchanged(store);
  });

  it('a certificate server that stalls or sends too much → 401 within the timeout; nothing changes', async () => {
    const { store, post } = setup({ certTimeoutMs: 300 });
    for (const path of [
      '/stall.pem',
      '/huge.pem',
      '/missing.pem',
      '/SimpleNotificationService-test.pem?v=2',
      '/cert.txt',
    ]) {
      const m = sns.envelope({
        Type: 'Notification',
        Message: fixture('ses-bounce.json'),
        SigningCertURL: `${sns.base}${path}`,
      });
      expect((await post(m)).status, path).toBe(401);
    }
    unchanged(store);
  });

  it('a SubscriptionConfirmation, once verified, is confirmed by GET of its SubscribeURL', async () => {
    const { store, post } = setup();
    const token =
      'tok-2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736';
    const m = sns.envelope({
      Type: 'SubscriptionConfirmation',
      Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      Token: token,
      SubscribeURL: `${sns.base}/confirm?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=${token}`,
    });
    const before = sns.hits.filter((h) => h.startsWith('/confirm')).length;
    const r = await post(m, { 'x-amz-sns-message-type': 'SubscriptionConfirmation' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ confirmed: true });
    const confirms = sns.hits.filter((h) => h.startsWith('/confirm'));
    expect(confirms).toHaveLength(before + 1);
    expect(confirms.at(-1)).toContain(`Token=${token}`);
    unchanged(store);
  });

  it('a forged SubscriptionConfirmation is never followed; a SubscribeURL off the SNS hosts is refused', async () => {
    const { post } = setup();
    const before = sns.hits.length;
    const forged = {
      ...sns.envelope({
        Type: 'SubscriptionConfirmation',
        Message: 'x',
        Token: 't',
        SubscribeURL: `${sns.base}/confirm?Token=t`,
      }),
      Token: 'other',
    };
    expect((await post(forged)).status).toBe(401);
    const offHost = sns.envelope({
      Type: 'SubscriptionConfirmation',
      Message: 'x',
      Token: 't',
      SubscribeURL: 'https://attacker.example/confirm',
    });
    expect((await post(offHost)).status).toBe(401);
    expect(sns.hits.slice(before).filter((h) => h.startsWith('/confirm'))).toEqual([]);
  });

  it('with autoConfirm: false a verified SubscriptionConfirmation is logged for ops, not followed', async () => {
    const store = makeStore();
    const { app, ctx } = appWith(store, {}, sesConfig(sns, { autoConfirm: false }));
    const warned: unknown[] = [];
    ctx.logger.warn = ((o: unknown) => warned.push(o)) as typeof ctx.logger.warn;
    const before = sns.hits.length;
    const url = `${sns.base}/confirm?Token=manual`;
    const m = sns.envelope({
      Type: 'SubscriptionConfirmation',
      Message: 'x',
      Token: 'manual',
      SubscribeURL: url,
    });
    const r = await app.request(`${URL_BASE}/hooks/ses`, { method: 'POST', body: JSON.stringify(m) });
    expect(await r.json()).toEqual({ confirmed: false });
    expect(sns.hits.slice(before).filter((h) => h.startsWith('/confirm'))).toEqual([]);
    expect(warned).toContainEqual(expect.objectContaining({ subscribeUrl: url, topicArn: TOPIC }));
  });
});
