import { generateKeyPairSync } from 'node:crypto';
import { dkimVerify } from 'mailauth';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { Composer, headerSafe, UnsafeAddressError } from '../../src/delivery/compose.ts';
import { v1Token, verifyToken } from '../../src/delivery/tokens.ts';
import { unsubscribeToken, unsubscribeUrl } from '../../src/delivery/unsubscribe.ts';

// v1 (legacy) tokens are no longer issued but still accepted; these are the v1 checks from before
// issue 14, kept. v2 is tested in tests/unit/tokens.test.ts.
const verifyUnsubscribeToken = (key: Buffer, t: string) => {
  const v = verifyToken([key], t, 'u');
  return v?.v === 1 ? { list: v.list, subscriber: v.email } : undefined;
};

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const dnsValue = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;

const secret = Buffer.from('unit-secret');
const url = unsubscribeUrl('https://news.example.com/broadsheet/', unsubscribeToken([secret], 'daily', 1));

const composer = (dkim = false) =>
  new Composer({
    from: '大公報每日簡報 <digest@news.example.com>',
    listId: 'daily.news.example.com',
    listName: '每日簡報',
    unsubscribeMailto: 'unsubscribe@news.example.com',
    dkim: dkim ? { domain: 'news.example.com', selector: 'bs2025', privateKey: pem } : undefined,
  });

const message = (over: Partial<Parameters<Composer['compose']>[0]> = {}) => ({
  email: 'reader@example.com',
  name: '陳大文',
  subject: '大公報｜12月10日：數讀中國AI發展',
  html: '<p>你好</p>',
  text: '你好',
  messageId: '<daily-2025-12-10.abc.1@news.example.com>',
  unsubscribeUrl: url,
  date: new Date('2025-12-10T00:00:00Z'),
  ...over,
});

const headerBlock = (raw: Buffer) => raw.toString('latin1').split('\r\n\r\n')[0]!;

describe('compose', () => {
  it('writes the bulk-sender headers: Message-ID on our domain, Date, List-Id, one List-Unsubscribe (https + mailto), One-Click, text + HTML', async () => {
    const c = composer().compose(message());
    const head = headerBlock(c.raw);
    expect(head.match(/^List-Unsubscribe:/gim)).toHaveLength(1);
    const m = await simpleParser(c.raw);
    expect(m.messageId).toBe('<daily-2025-12-10.abc.1@news.example.com>');
    expect(m.date?.toISOString()).toBe('2025-12-10T00:00:00.000Z');
    expect(m.subject).toBe('大公報｜12月10日：數讀中國AI發展');
    expect(m.to && !Array.isArray(m.to) ? m.to.value[0] : undefined).toMatchObject({
      address: 'reader@example.com',
      name: '陳大文',
    });
    expect(m.headerLines.filter((h) => h.key === 'list-unsubscribe-post').map((h) => h.line)).toEqual([
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ]);
    const lu = m.headerLines.find((h) => h.key === 'list-unsubscribe')!.line.replace(/\r\n\s+/g, ' ');
    expect(lu).toContain(`<${url}>`);
    expect(lu).toMatch(/<mailto:unsubscribe@news\.example\.com\?subject=unsubscribe%20[\w.-]+>/);
    expect(head).toMatch(/^List-Id: .*<daily\.news\.example\.com>/m);
    expect(m.text?.trim()).toBe('你好');
    expect(m.html).toContain('<p>你好</p>');
    expect(c.envelope).toEqual({ from: 'digest@news.example.com', to: ['reader@example.com'] });
  });

  it('signs with DKIM so that mailauth verifies it, h= covering both unsubscribe headers', async () => {
    const c = composer(true).compose(message());
    const res = await dkimVerify(c.raw, {
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && name === 'bs2025._domainkey.news.example.com') return [[dnsValue]];
        throw Object.assign(new Error('NXDOMAIN'), { code: 'ENOTFOUND' });
      },
    });
    expect(res.results[0]?.status.result).toBe('pass');
    expect(res.results[0]?.signingDomain).toBe('news.example.com');
    const sig = headerBlock(c.raw)
      .split(/\r\n(?! )/)[0]!
      .replace(/\r\n\s+/g, '');
    const h = /\bh=([^;]+)/.exec(sig)![1]!.toLowerCase().split(':');
    expect(h).toEqual(
      expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'from', 'subject', 'message-id']),
    );
  });

  it('a tampered unsubscribe header breaks the signature', async () => {
    const c = composer(true).compose(message());
    const bad = Buffer.from(
      c.raw
        .toString('latin1')
        .replace(
          'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
          'List-Unsubscribe-Post: List-Unsubscribe=Two-Click',
        ),
      'latin1',
    );
    const res = await dkimVerify(bad, { resolver: async () => [[dnsValue]] });
    expect(res.results[0]?.status.result).not.toBe('pass');
  });

  it('header injection: CR/LF and other controls in a name or subject never make a new header', async () => {
    const attacks = [
      'Evil\r\nBcc: victim@example.net',
      'Evil\nBcc: victim@example.net',
      'Evil\rBcc: victim@example.net',
      'Evil\u2028Bcc: victim@example.net',
      'Evil\u0085Bcc: victim@example.net\u0000',
    ];
    for (const a of attacks) {
      const c = composer(true).compose(message({ name: a, subject: `Hi ${a}\r\nX-Injected: yes` }));
      const head = headerBlock(c.raw);
      // every line of the header block is a header or a folded continuation
      for (const line of head.split('\r\n')) expect(line).toMatch(/^([A-Za-z-]+: |[ \t])/);
      expect(head).not.toMatch(/^(Bcc|X-Injected):/im);
      expect(head).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
      const m = await simpleParser(c.raw);
      expect(m.headers.has('bcc')).toBe(false);
      expect(m.headers.has('x-injected')).toBe(false);
      expect(m.subject).not.toMatch(/[\r\n]/);
    }
    expect(headerSafe('a\r\n\tb\u2029c')).toBe('a b c');
  });

  it('refuses an address that could break the envelope or a header', () => {
    for (const email of [
      'a@example.com\r\nRCPT TO:<x@y.z>',
      'a b@example.com',
      '<a@example.com>',
      'a@example.com>',
    ]) {
      expect(() => composer().compose(message({ email }))).toThrow(UnsafeAddressError);
    }
  });
});

describe('unsubscribe tokens (v1, legacy)', () => {
  it('verify in constant time; forged, moved or re-keyed tokens fail', () => {
    const t = v1Token(secret, 'daily', 'reader@example.com');
    expect(verifyUnsubscribeToken(secret, t)).toEqual({ list: 'daily', subscriber: 'reader@example.com' });
    expect(verifyUnsubscribeToken(Buffer.from('other'), t)).toBeUndefined();
    const [, mac] = t.split('.');
    const moved = `${Buffer.from(JSON.stringify({ l: 'daily', s: 'other@example.com' })).toString('base64url')}.${mac}`;
    expect(verifyUnsubscribeToken(secret, moved)).toBeUndefined();
    expect(verifyUnsubscribeToken(secret, `${t}x`)).toBeUndefined();
    expect(verifyUnsubscribeToken(secret, 'garbage')).toBeUndefined();
    expect(unsubscribeUrl('https://news.example.com/broadsheet/', t)).toBe(
      `https://news.example.com/broadsheet/u/${t}`,
    );
  });
});

describe('unsubscribe token spelling (v1, legacy)', () => {
  it('refuses a token whose MAC is spelled differently but decodes to the same bytes', () => {
    const token = v1Token(secret, 'daily', 'a@example.com');
    expect(verifyUnsubscribeToken(secret, token)).toEqual({ list: 'daily', subscriber: 'a@example.com' });
    // 32 bytes → 43 base64url chars; the last carries 2 spare bits.
    const last = token.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1]!;
    const altered = token.slice(0, -1) + twin;
    expect(Buffer.from(altered.split('.')[1]!, 'base64url')).toEqual(
      Buffer.from(token.split('.')[1]!, 'base64url'),
    );
    expect(verifyUnsubscribeToken(secret, altered)).toBeUndefined();
    expect(verifyUnsubscribeToken(Buffer.from('x'.repeat(32)), token)).toBeUndefined();
  });
});
