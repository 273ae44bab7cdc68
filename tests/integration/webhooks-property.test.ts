// Property: without the provider's valid signature (or credentials), no body
// and no headers get a 2xx from /hooks/<provider> — and nothing is recorded.
// Random strings, random JSON, and near-valid shapes (a Mailgun signature
// block with a random HMAC, an SNS envelope for the configured topic with a
// random signature, random Basic credentials, random ECDSA headers), seeded.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appWith,
  type FakeSns,
  fixture,
  makeStore,
  nowSeconds,
  type Store,
  sendgridKeys,
  sesConfig,
  startFakeSns,
  TOPIC,
} from '../fixtures/webhooks/setup.ts';
import { needs } from '../helpers/system.ts';

const hasOpenssl = needs('openssl', 'openssl');
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,80}$/);
const b64 = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a).toString('base64'));
const ts = fc.oneof(fc.constant('now'), fc.integer({ min: 0, max: 4_000_000_000 }).map(String), headerValue);
const stamp = (t: string) => (t === 'now' ? nowSeconds() : t);

const mailgunShaped = fc
  .record({
    timestamp: ts,
    token: fc.string({ maxLength: 60 }),
    signature: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string()),
  })
  .map((s) =>
    JSON.stringify({
      signature: { ...s, timestamp: stamp(s.timestamp) },
      'event-data': JSON.parse(fixture('mailgun-failed.json')),
    }),
  );

const headers = fc.record(
  {
    authorization: fc.oneof(
      headerValue,
      b64(0, 48).map((b) => `Basic ${b}`),
    ),
    'x-twilio-email-event-webhook-signature': fc.oneof(b64(8, 80), headerValue),
    'x-twilio-email-event-webhook-timestamp': ts.map(stamp),
    'x-amz-sns-message-type': fc.constantFrom('Notification', 'SubscriptionConfirmation', 'x'),
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain; charset=UTF-8',
      'application/x-www-form-urlencoded',
    ),
  },
  { requiredKeys: [] },
);

let store: Store;
let sns: FakeSns | undefined;
beforeAll(async () => {
  if (hasOpenssl) sns = await startFakeSns();
});
afterAll(async () => {
  store?.db.close();
  await sns?.close();
});

describe('no 2xx without a valid signature', () => {
  it('Postmark, SendGrid, Mailgun and SES refuse random and near-valid calls (seeded)', async () => {
    store = makeStore();
    const { app } = appWith(
      store,
      {
        POSTMARK_WEBHOOK_AUTH: 'postmark:s3cret pass',
        SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridKeys().publicB64,
        MAILGUN_WEBHOOK_SIGNING_KEY: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0',
      },
      sns ? sesConfig(sns) : {},
    );
    const snsShaped = sns
      ? fc
          .record({
            Signature: b64(0, 300),
            SignatureVersion: fc.constantFrom('1', '2', '3'),
            Type: fc.constantFrom('Notification', 'SubscriptionConfirmation'),
          })
          .map((f) => {
            const base = sns!.envelope({
              Type: f.Type,
              Message: fixture('ses-bounce.json'),
              Token: 't',
              SubscribeURL: `${sns!.base}/confirm?Token=t`,
            });
            return JSON.stringify({ ...base, ...f, TopicArn: TOPIC });
          })
      : fc.constant('{}');
    const body = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.json({ maxDepth: 3 }),
      mailgunShaped,
      snsShaped,
      fc.constant(fixture('sendgrid-events.json')),
      fc.constant(fixture('postmark-bounce.json')),
    );
    const providers = ['postmark', 'sendgrid', 'mailgun', ...(sns ? ['ses'] : [])];
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...providers), body, headers, async (p, b, h) => {
        const r = await app.request(`http://127.0.0.1:8787/hooks/${p}`, {
          method: 'POST',
          headers: h,
          body: b,
        });
        statuses.add(r.status);
        expect(r.status).toBe(401);
      }),
      { seed: 151515, numRuns: 300 },
    );
    expect([...statuses]).toEqual([401]);
    expect(store.events()).toEqual([]);
    expect(new Set(Object.values(store.statuses()))).toEqual(new Set(['active']));
  });
});
