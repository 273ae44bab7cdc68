import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeForReader, makeComposer, readerReturnPath } from '../../src/delivery/send.ts';
import { sendTest } from '../../src/delivery/test-send.ts';
import {
  openVerpToken,
  resolveVerp,
  returnPathBase,
  tokenOfAddress,
  verpAddress,
  verpToken,
} from '../../src/delivery/verp.ts';
import { isBroadsheetError } from '../../src/errors/index.ts';
import { openStore, SubscriberRepo } from '../../src/store/index.ts';
import { digest, EDITION, tempDir, testContext } from '../fixtures/delivery/ctx.ts';

const KEY = Buffer.from('test-secret');
const OLD = Buffer.from('old-secret');

describe('VERP tokens', () => {
  it('round-trip (edition hash, subscriber), lower-case base32, 26 characters; a previous key still opens', () => {
    const t = verpToken([OLD], 'daily-2025-12-10', 42);
    expect(t).toMatch(/^[a-z2-7]{26}$/);
    expect(openVerpToken([KEY, OLD], t)?.subscriberId).toBe(42);
    expect(openVerpToken([KEY], t)).toBeUndefined();
    // MTAs may upper-case or lower-case the local part: either spelling opens.
    expect(openVerpToken([OLD], t.toUpperCase())?.subscriberId).toBe(42);
    // deterministic: the same reader and edition always get the same return path
    expect(verpToken([OLD], 'daily-2025-12-10', 42)).toBe(t);
    expect(verpToken([OLD], 'daily-2025-12-11', 42)).not.toBe(t);
  });

  it('an altered character never opens', () => {
    const t = verpToken([KEY], 'daily-2025-12-10', 7);
    for (let i = 0; i < t.length; i++) {
      const c = t[i] === 'a' ? 'b' : 'a';
      expect(openVerpToken([KEY], t.slice(0, i) + c + t.slice(i + 1))).toBeUndefined();
    }
  });

  it('the address: <local>+<token>@<domain>, found again in any case and brackets', () => {
    const t = verpToken([KEY], 'daily-2025-12-10', 7);
    const a = verpAddress('bounces@news.example.com', t);
    expect(a).toBe(`bounces+${t}@news.example.com`);
    expect(tokenOfAddress(`<${a.toUpperCase()}>`)).toBe(t);
    expect(tokenOfAddress('bounces@news.example.com')).toBeUndefined();
    expect(tokenOfAddress('someone+short@example.com')).toBeUndefined();
  });

  it('the return path: default bounces@<domain>, false turns VERP off, a too-long local part is refused (exit 2)', () => {
    expect(returnPathBase(undefined, 'news.example.com')).toBe('bounces@news.example.com');
    expect(returnPathBase(false, 'news.example.com')).toBeUndefined();
    expect(returnPathBase('x'.repeat(37) + '@news.example.com', 'd.com')).toBe(
      `${'x'.repeat(37)}@news.example.com`,
    );
    try {
      returnPathBase('x'.repeat(38) + '@news.example.com', 'd.com');
      expect.unreachable();
    } catch (e) {
      expect(isBroadsheetError(e) && e.code).toBe('VERP_RETURN_PATH_INVALID');
      expect(isBroadsheetError(e) && e.exitCode).toBe(2);
    }
  });

  it('resolves only against a real send row', () => {
    const db = openStore(`${tempDir('bs-verp-')}/data/b.db`);
    const subs = new SubscriberRepo(db);
    subs.upsert({ email: 'a@example.com' }, 'test');
    const id = subs.get('a@example.com')!.id;
    const t = verpToken([KEY], 'a-very-long-edition-name_with_many_characters-2025-12-10', id);
    expect(resolveVerp(db, [KEY], t)).toBeUndefined();
    db.prepare(
      `INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at)
       VALUES (?, ?, 'a@example.com', 'sent', '<m1@x>', '2025-12-10', '2025-12-10')`,
    ).run('a-very-long-edition-name_with_many_characters-2025-12-10', id);
    expect(resolveVerp(db, [KEY], t)).toEqual({
      edition: 'a-very-long-edition-name_with_many_characters-2025-12-10',
      subscriberId: id,
    });
    expect(resolveVerp(db, [KEY], verpToken([KEY], 'daily-2025-12-10', id))).toBeUndefined();
  });
});

describe('a composed digest', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dns = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;

  it('goes out with MAIL FROM = the VERP address, header From unchanged, DKIM verifying', async () => {
    const dir = tempDir('bs-verp-compose-');
    const ctx = testContext(dir, { delivery: { dkim: { domain: 'news.example.com', selector: 's1' } } });
    const keyFile = `${dir}/dkim.pem`;
    (await import('node:fs')).writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    ctx.secrets.dkimPrivateKeyFile = keyFile;
    const composer = makeComposer(ctx, { list: 'daily', listName: '每日簡報' });
    const rp = readerReturnPath(ctx, [KEY], EDITION, 5)!;
    const c = composeForReader(ctx, composer, digest, {
      email: 'reader@example.com',
      unsubscribeUrl: 'https://news.example.com/broadsheet/u/x',
      viewOnlineUrl: 'https://news.example.com/broadsheet/archive/x',
      messageId: '<m.5@news.example.com>',
      returnPath: rp,
    });
    expect(c.envelope.from).toBe(rp);
    expect(c.envelope.from).toMatch(/^bounces\+[a-z2-7]{26}@news\.example\.com$/);
    expect(openVerpToken([KEY], tokenOfAddress(c.envelope.from)!)?.subscriberId).toBe(5);
    const m = await simpleParser(c.raw);
    expect(m.from?.value[0]?.address).toBe(
      ctx.config.email.from.match(/<(.+)>/)?.[1] ?? ctx.config.email.from,
    );
    expect(c.raw.toString('utf8')).not.toContain('bounces+');
    const res = await dkimVerify(c.raw, {
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && name === 's1._domainkey.news.example.com') return [[dns]];
        throw Object.assign(new Error('NXDOMAIN'), { code: 'ENOTFOUND' });
      },
    });
    expect(res.results[0]?.status.result).toBe('pass');
    // a test send (no reader) keeps the plain bounce address
    const plain = composeForReader(ctx, composer, digest, {
      email: 'reader@example.com',
      unsubscribeUrl: 'https://news.example.com/broadsheet/u/test-send',
      viewOnlineUrl: 'https://news.example.com/broadsheet/archive/x',
      messageId: '<t@news.example.com>',
    });
    expect(plain.envelope.from).toBe('bounces@news.example.com');
  });

  it('a test send (send --to) goes out with the plain bounce address: it belongs to no reader', async () => {
    const dir = tempDir('bs-verp-test-send-');
    const ctx = testContext(dir);
    await sendTest(
      ctx,
      { editionId: EDITION, list: 'daily', listName: '每日簡報', digest },
      { to: 'editor@example.com', transport: 'json' },
    );
    const line = readFileSync(join(ctx.paths.out, EDITION, 'test-send', 'messages.jsonl'), 'utf8').trim();
    expect(JSON.parse(line).envelope).toEqual({
      from: 'bounces@news.example.com',
      to: ['editor@example.com'],
    });
  });

  it('delivery.returnPath: false keeps the From address as envelope sender', () => {
    const ctx = testContext(tempDir('bs-verp-off-'), { delivery: { returnPath: false } });
    expect(readerReturnPath(ctx, [KEY], EDITION, 5)).toBeUndefined();
    const composer = makeComposer(ctx, { list: 'daily', listName: 'd' });
    const c = composeForReader(ctx, composer, digest, {
      email: 'reader@example.com',
      unsubscribeUrl: 'https://news.example.com/broadsheet/u/x',
      viewOnlineUrl: 'https://news.example.com/broadsheet/archive/x',
      messageId: '<m.5@news.example.com>',
    });
    expect(c.envelope.from).not.toContain('bounces');
    expect(c.envelope.from).toBe(parseFrom(ctx.config.email.from));
  });
});

const parseFrom = (f: string) => /<([^>]+)>/.exec(f)?.[1] ?? f;
