import { createCipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issueReaderRef, verifyReaderRef } from '../../src/analytics/token.ts';
import { base64LineChunks } from '../../src/delivery/base64-lines.ts';
import { Composer } from '../../src/delivery/compose.ts';
import { dotStuff } from '../../src/delivery/transports/smtp-pipeline.ts';
import { openVerpToken, verpToken } from '../../src/delivery/verp.ts';
import { mergeRecipient, mergeRecipientBytes } from '../../src/email/merge.ts';
import { wrapText } from '../../src/email/text.ts';

// The send's fast paths (issue 16, brief I) must give the very bytes the plain
// ways give: merge as UTF-8 parts, text wrapped only where a token is, base64
// from bytes, and ciphers reused across readers.

const FIELDS = ['name', 'email', 'unsubscribe_url', 'preferences_url', 'view_online_url', 'reader_ref'];
const word = fc.constantFrom(
  '數讀',
  '中國AI發展',
  '用戶規模達5.15億人，',
  'hello',
  'world ',
  '・',
  '「引」',
  '。',
  ' ',
  '%',
  '&<>"',
);
const piece = fc.oneof(
  { weight: 5, arbitrary: word },
  { weight: 2, arbitrary: fc.constantFrom(...FIELDS).map((f) => `%%${f}%%`) },
  { weight: 1, arbitrary: fc.constant('\n') },
  { weight: 1, arbitrary: fc.constant('https://news.example.com/a/very/long/path/that/does/not/break ') },
);
const template = fc.array(piece, { maxLength: 60 }).map((a) => a.join(''));
const reader = fc.record({
  name: fc.constantFrom('', '陳大文', 'Ann O’Neil & <b>', 'x'.repeat(40), '50%%off'),
  id: fc.integer({ min: 1, max: 2 ** 40 }),
  ref: fc.constantFrom('', '/abcdefghijklmnopqrstuv'),
});

function base32(b: Buffer): string {
  const A = 'abcdefghijklmnopqrstuvwxyz234567';
  const bits = [...b].map((x) => x.toString(2).padStart(8, '0')).join('');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += A[Number.parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}

describe('send fast paths give the same bytes', () => {
  it('mergeRecipientBytes is mergeRecipient in UTF-8, and the text is wrapText of the plain join', () => {
    fc.assert(
      fc.property(template, template, reader, (html, text, rd) => {
        const digest = { subject: '大公報', html: `<html lang="zh-Hant-HK">${html}</html>`, text };
        const r = {
          email: `r${rd.id}@example.com`,
          name: rd.name,
          unsubscribeUrl: `https://news.example.com/u/v2.${rd.id}`,
          preferencesUrl: `https://news.example.com/p/v2.${rd.id}`,
          viewOnlineUrl: 'https://news.example.com/archive/daily-2025-12-10',
          readerRef: rd.ref,
        };
        const s = mergeRecipient(digest, r);
        const b = mergeRecipientBytes(digest, r);
        expect(Buffer.concat(b.html).equals(Buffer.from(s.html, 'utf8'))).toBe(true);
        expect(Buffer.concat(b.text).equals(Buffer.from(s.text, 'utf8'))).toBe(true);
        expect(b.subject).toBe(s.subject);
        const values: Record<string, string> = {
          name: rd.name.trim() || '讀者',
          email: r.email,
          unsubscribe_url: r.unsubscribeUrl,
          preferences_url: r.preferencesUrl,
          view_online_url: r.viewOnlineUrl,
          reader_ref: rd.ref,
        };
        expect(s.text).toBe(wrapText(text.replace(/%%([a-z_]+)%%/g, (_, f: string) => values[f]!)));
      }),
      { seed: 1616, numRuns: 200 },
    );
  });

  it('compose gives the same message from bytes as from strings (but for the random boundary)', () => {
    const c = new Composer({
      from: '大公報 <digest@news.example.com>',
      listId: 'daily.news.example.com',
      listName: '每日簡報',
      unsubscribeMailto: 'unsubscribe@news.example.com',
    });
    const m = {
      email: 'r1@example.com',
      name: '陳大文',
      subject: '數讀',
      messageId: '<m.1@news.example.com>',
      unsubscribeUrl: 'https://news.example.com/u/v2.x',
      date: new Date('2025-12-10T00:00:00Z'),
    };
    const html = '<p>數讀中國AI發展</p>'.repeat(500);
    const text = '數讀中國AI發展\n'.repeat(300);
    const norm = (raw: Buffer) => raw.toString('utf8').replace(/_bs_[0-9a-f]{24}/g, '_bs_B');
    const a = norm(c.compose({ ...m, html, text }).raw);
    const b = norm(c.compose({ ...m, html: Buffer.from(html), text: Buffer.from(text) }).raw);
    expect(b).toBe(a);
    expect(a).toContain(`${Buffer.from(html).toString('base64').slice(0, 76)}\r\n`);
  });

  it('every composed message is dot-safe (SMTP sends it unstuffed), and a full dotStuff pass agrees', () => {
    // Generated names, subjects and list phrases, dotted, long, with controls and
    // line separators: the Composer's flag must agree with a full dotStuff pass.
    const dotted = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc
        .array(fc.constantFrom('.', '..', ' ', '\r\n', '\n.', '數讀', 'x'.repeat(70), '\u2028', '=?'), {
          maxLength: 12,
        })
        .map((a) => a.join('')),
    );
    fc.assert(
      fc.property(dotted, dotted, dotted, dotted, (name, subject, fromName, listName) => {
        const c = new Composer({
          from: '大公報 <digest@news.example.com>',
          listId: 'daily.news.example.com',
          listName: '每日簡報',
          unsubscribeMailto: 'unsubscribe@news.example.com',
        });
        const m = c.compose({
          email: 'r1@example.com',
          name,
          subject,
          fromName: fromName || undefined,
          listName: listName || undefined,
          html: `.<p>${subject}</p>\r\n.\r\n`,
          text: `.${name}\n.\n`,
          messageId: '<m.1@news.example.com>',
          unsubscribeUrl: 'https://news.example.com/u/v2.x',
          date: new Date('2025-12-10T00:00:00Z'),
        });
        expect(m.dotSafe).toBe(true);
        expect(dotStuff(m.raw)).toBe(m.raw);
      }),
      { seed: 5321, numRuns: 300 },
    );
  });

  it('VERP tokens and reader refs from a reused cipher match a fresh cipher, with keys interleaved', () => {
    const keys = [Buffer.from('k-one'), Buffer.from('k-two')];
    for (let i = 0; i < 50; i++) {
      const key = keys[i % 2]!;
      const id = 1000 + i * 7919;
      // VERP: one AES block [id(6) ‖ sha256(edition)[0..4) ‖ 0(6)], base32.
      const edition = i % 3 ? 'daily-2025-12-10' : 'weekly-2025-12-14';
      const plain = Buffer.alloc(16);
      plain.writeUIntBE(id, 0, 6);
      createHash('sha256').update(edition).digest().copy(plain, 6, 0, 4);
      const vk = Buffer.from(hkdfSync('sha256', key, 'broadsheet', 'verp v1 aes-256-ecb', 32));
      const fresh = createCipheriv('aes-256-ecb', vk, null).setAutoPadding(false);
      const block = Buffer.concat([fresh.update(plain), fresh.final()]);
      const t = verpToken([key], edition, id);
      expect(t).toBe(base32(block));
      expect(openVerpToken([key], t)?.subscriberId).toBe(id);
      // Reader ref: one AES block [id(6) ‖ HMAC(edition, id)[0..10)].
      const ref = issueReaderRef([key], edition, id);
      const idb = Buffer.alloc(6);
      idb.writeUIntBE(id, 0, 6);
      const hk = Buffer.from(hkdfSync('sha256', key, 'broadsheet', 'click-reader v1 hmac', 32));
      const tag = createHmac('sha256', hk).update(`${edition}\n`).update(idb).digest().subarray(0, 10);
      const ak = Buffer.from(hkdfSync('sha256', key, 'broadsheet', 'click-reader v1 aes', 32));
      const rc = createCipheriv('aes-256-ecb', ak, null).setAutoPadding(false);
      const want = Buffer.concat([rc.update(Buffer.concat([idb, tag])), rc.final()]).toString('base64url');
      expect(ref).toBe(want);
      expect(verifyReaderRef([key], edition, ref)).toBe(id);
    }
  });
});

describe('base64 lines from chunks', () => {
  const plain = (b: Buffer) => {
    const s = b.toString('base64');
    let out = '';
    for (let i = 0; i < s.length; i += 76) out += `${s.slice(i, i + 76)}\r\n`;
    return out;
  };
  it('equal the plain encoding of the chunks joined, whatever the split, with long chunks reused at every alignment', () => {
    // Long chunks shared across runs (the cache keys on them), short fresh ones between.
    const shared = [1024, 1025, 1100, 4000, 5001].map((n, k) =>
      Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + k * 7) % 256)),
    );
    const chunk = fc.oneof(
      fc.constantFrom(...shared),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 12 }), (chunks) => {
        const got = Buffer.concat(base64LineChunks(chunks)).toString('latin1');
        expect(got).toBe(plain(Buffer.concat(chunks)));
      }),
      { seed: 2920, numRuns: 400 },
    );
  });
});
