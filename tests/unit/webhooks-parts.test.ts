// The webhook building blocks on their own: the SNS string-to-sign and host
// rule, the replay window and its bound, the SendGrid key forms, and SES
// events with several recipients.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SNS_HOST_PATTERN, webhooksConfigSchema } from '../../src/webhooks/config.ts';
import { freshSeconds, SeenTokens } from '../../src/webhooks/freshness.ts';
import { sendgridKey } from '../../src/webhooks/providers/sendgrid.ts';
import { sesEvents } from '../../src/webhooks/providers/ses.ts';
import { canonicalString, type SnsMessage, snsMessage, snsUrl } from '../../src/webhooks/sns.ts';
import { MalformedPayload } from '../../src/webhooks/types.ts';
import { fixture } from '../fixtures/webhooks/setup.ts';

const base = {
  MessageId: 'da41e39f-ea4d-435a-b922-c6aae3915ebe',
  TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  Message: 'My First Message',
  Timestamp: '2012-04-25T21:49:25.719Z',
  SignatureVersion: '1',
  Signature: 'x',
  SigningCertURL:
    'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
};

describe('SNS', () => {
  it('signs the documented fields in order, Subject only when present', () => {
    const n = { ...base, Type: 'Notification' } as SnsMessage;
    expect(canonicalString(n)).toBe(
      `Message\nMy First Message\nMessageId\n${base.MessageId}\nTimestamp\n${base.Timestamp}\nTopicArn\n${base.TopicArn}\nType\nNotification\n`,
    );
    expect(canonicalString({ ...n, Subject: 'Hi' })).toContain(
      `MessageId\n${base.MessageId}\nSubject\nHi\nTimestamp\n`,
    );
    const c = {
      ...base,
      Type: 'SubscriptionConfirmation',
      Token: 'tok',
      SubscribeURL: 'https://sns/x',
    } as SnsMessage;
    expect(canonicalString(c)).toBe(
      `Message\nMy First Message\nMessageId\n${base.MessageId}\nSubscribeURL\nhttps://sns/x\nTimestamp\n${base.Timestamp}\nToken\ntok\nTopicArn\n${base.TopicArn}\nType\nSubscriptionConfirmation\n`,
    );
  });

  it('an envelope missing a signed field, or with a non-string one, is not an SNS message', () => {
    expect(snsMessage({ ...base, Type: 'Notification' })).toBeDefined();
    expect(snsMessage({ ...base, Type: 'Notification', Message: 1 })).toBeUndefined();
    expect(snsMessage({ ...base, Type: 'SubscriptionConfirmation' })).toBeUndefined(); // no Token/SubscribeURL
    expect(snsMessage({ ...base, Type: 'Other' })).toBeUndefined();
    expect(snsMessage(null)).toBeUndefined();
  });

  it('certificate and confirmation URLs: https on an SNS host only', () => {
    const re = new RegExp(SNS_HOST_PATTERN);
    expect(snsUrl(base.SigningCertURL, re, 'u')).toBeInstanceOf(URL);
    expect(snsUrl('https://sns.cn-north-1.amazonaws.com.cn/x.pem', re, 'u')).toBeInstanceOf(URL);
    for (const bad of [
      'http://sns.us-east-1.amazonaws.com/x.pem',
      'https://sns.us-east-1.amazonaws.com.evil.example/x.pem',
      'https://evil.example/sns.us-east-1.amazonaws.com/x.pem',
      'https://s3.amazonaws.com/x.pem',
      'https://user:pw@sns.us-east-1.amazonaws.com/x.pem',
      'https://sns.us-east-1.amazonaws.com@evil.example/x.pem',
      'not a url',
    ])
      expect(typeof snsUrl(bad, re, 'u'), bad).toBe('string');
  });
});

describe('replay window', () => {
  it('a timestamp counts within ±maxAge only; non-numeric never', () => {
    const now = new Date('2026-11-30T08:00:00Z');
    const s = now.getTime() / 1000;
    expect(freshSeconds(String(s - 299), now, 300)).toBe(true);
    expect(freshSeconds(String(s + 299), now, 300)).toBe(true);
    expect(freshSeconds(String(s - 301), now, 300)).toBe(false);
    expect(freshSeconds(String(s + 301), now, 300)).toBe(false);
    expect(freshSeconds('1e10', now, 300)).toBe(false);
    expect(freshSeconds('', now, 300)).toBe(false);
  });

  it('a token is accepted once within the window, and the cache stays bounded', () => {
    const seen = new SeenTokens(1000, 3);
    expect(seen.first('a', 0)).toBe(true);
    expect(seen.first('a', 500)).toBe(false);
    expect(seen.first('b', 600)).toBe(true);
    expect(seen.first('c', 700)).toBe(true);
    expect(seen.first('d', 800)).toBe(true); // evicts the oldest (a)
    expect(seen.size).toBe(3);
    expect(seen.first('b', 1500)).toBe(false); // 900 ms old: still inside the window
    expect(seen.first('e', 5000)).toBe(true); // everything older than the window dropped
    expect(seen.size).toBe(1);
  });
});

describe('SendGrid key', () => {
  it('accepts the base64 DER SendGrid shows, and PEM; refuses an RSA key and garbage', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    expect(sendgridKey(ec.export({ format: 'der', type: 'spki' }).toString('base64')).asymmetricKeyType).toBe(
      'ec',
    );
    expect(sendgridKey(ec.export({ format: 'pem', type: 'spki' }) as string).asymmetricKeyType).toBe('ec');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => sendgridKey(rsa.export({ format: 'pem', type: 'spki' }) as string)).toThrow();
    expect(() => sendgridKey('AAAA')).toThrow();
  });
});

describe('SES events', () => {
  it('one event per recipient; several recipients get suffixed ids', () => {
    const msg = JSON.parse(fixture('ses-bounce.json'));
    msg.bounce.bouncedRecipients.push({ emailAddress: 'other@example.com', status: '5.1.1' });
    const { events } = sesEvents('sns-1', msg);
    expect(events.map((e) => [e.recipient, e.externalId, e.kind, e.messageId])).toEqual([
      ['hard@example.com', 'sns-1#0', 'bounce_hard', '<hard.daily-2025-12-10@news.example.com>'],
      ['other@example.com', 'sns-1#1', 'bounce_hard', '<hard.daily-2025-12-10@news.example.com>'],
    ]);
    expect(sesEvents('sns-2', JSON.parse(fixture('ses-bounce.json'))).events[0]!.externalId).toBe('sns-2');
  });

  it('the Message-ID comes from headers when commonHeaders lack it; Reject is kept as unknown; junk is malformed', () => {
    const msg = JSON.parse(fixture('ses-bounce.json'));
    delete msg.mail.commonHeaders;
    expect(sesEvents('x', msg).events[0]!.messageId).toBe('<hard.daily-2025-12-10@news.example.com>');
    const reject = {
      eventType: 'Reject',
      mail: { destination: ['a@example.com'] },
      reject: { reason: 'Bad content' },
    };
    expect(sesEvents('y', reject).events).toMatchObject([
      { kind: 'unknown', status: 'Reject', recipient: 'a@example.com' },
    ]);
    expect(() => sesEvents('z', { notificationType: 'Bounce', mail: {} })).toThrow(MalformedPayload);
    expect(() => sesEvents('z', 'text')).toThrow(MalformedPayload);
  });
});

describe('config', () => {
  it('defaults leave SES off; topic ARNs and the host pattern are checked', () => {
    const c = webhooksConfigSchema.parse({});
    expect(c).toMatchObject({
      maxAgeSeconds: 300,
      ses: { topicArns: [], autoConfirm: true, maxAgeSeconds: 3600, certHostPattern: SNS_HOST_PATTERN },
    });
    expect(() => webhooksConfigSchema.parse({ ses: { topicArns: ['not-an-arn'] } })).toThrow();
    expect(() => webhooksConfigSchema.parse({ ses: { certHostPattern: '(' } })).toThrow();
  });
});
