import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { composeForReader, makeComposer } from '../../src/delivery/send.ts';
import { emlName, outbox } from '../../src/delivery/transports/outbox.ts';
import type { Edition } from '../../src/edition/model.ts';
import { type DigestResult, renderDigest } from '../../src/email/index.ts';
import { emailContext, RECIPIENT, seedEdition } from '../fixtures/email/fixtures.ts';
import { needs } from '../helpers/system.ts';

const ctx = emailContext();
let seed: Edition;
let digest: DigestResult;
let dir: string;
let files: string[];

beforeAll(async () => {
  seed = await seedEdition(ctx);
  digest = await renderDigest(seed, ctx);
  dir = await mkdtemp(join(tmpdir(), 'bs-outbox-'));
  // The production path: the same composer and merge `broadsheet send` uses,
  // written by the real outbox transport — so SpamAssassin scores what readers get.
  const composer = makeComposer(ctx, { list: seed.name, listName: seed.title });
  const transport = outbox({ ctx, editionDir: dir });
  const readers = [
    RECIPIENT,
    { ...RECIPIENT, email: 'li.xiaomei@example.com', name: '李小梅', locale: 'zh-Hans' },
    { ...RECIPIENT, email: '../../etc/Passwd@example.com', name: undefined },
  ];
  files = [];
  for (const [i, r] of readers.entries()) {
    const m = composeForReader(ctx, composer, digest, {
      ...r,
      messageId: `<${seed.id}.${i}@news.example.com>`,
    });
    await transport.send({ ...m, edition: seed.id, recipient: r.email.toLowerCase(), commit: () => {} });
    files.push(join(dir, 'outbox', emlName(r.email)));
  }
});

describe('outbox', () => {
  it('writes one .eml per recipient with safe file names', () => {
    expect(files).toHaveLength(3);
    for (const f of files) expect(basename(f)).toMatch(/^[a-z0-9@._+-]+\.eml$/);
    expect(emlName('A+B@Example.com')).not.toBe(emlName('a_b@example.com'));
    expect(basename(files[2]!)).not.toContain('/');
    expect(dirname(files[2]!)).toBe(join(dir, 'outbox'));
  });

  it("builds a multipart message with one-click unsubscribe (the mailto names the reader's token) and the ledger's Message-ID", async () => {
    const raw = await readFile(files[0]!);
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe(digest.subject);
    expect(mail.messageId).toMatch(/^<daily-2025-12-10\.0@news\.example\.com>$/);
    const head = raw
      .toString('utf8')
      .split('\r\n\r\n')[0]!
      .replace(/\r\n[ \t]+/g, ' ');
    const lu = /^List-Unsubscribe: *(.*)$/m.exec(head)?.[1];
    expect(raw.toString('utf8').match(/^List-Unsubscribe:/gm)).toHaveLength(1);
    expect(lu).toBe(
      `<${RECIPIENT.unsubscribeUrl}>, <mailto:unsubscribe@news.example.com?subject=unsubscribe%20${RECIPIENT.unsubscribeUrl.split('/u/')[1]}>`,
    );
    expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    expect(raw.toString('utf8')).toMatch(/Content-Transfer-Encoding: base64/);
    expect(mail.text).toContain('陳大文，早晨！');
    expect(mail.html).toContain(`href="${RECIPIENT.unsubscribeUrl}"`);
  });

  it('sends a zh-Hans reader the Simplified digest', async () => {
    const mail = await simpleParser(await readFile(files[1]!));
    expect(mail.subject).toBe('中国AI突飞猛进\u3000专利量全球居首');
    // Mainland greeting from the zh-Hans catalog, not the converted Hong Kong 早晨.
    expect(mail.text).toContain('李小梅，早上好！');
    expect(mail.text).toContain('数读');
    expect(mail.html).toContain('lang="zh-Hans"');
  });
});

describe.skipIf(!needs('spamassassin', 'spamassassin'))('SpamAssassin (local rules)', () => {
  // files[0] is the Hong Kong reader's copy, files[1] the zh-Hans reader's variant.
  it.each([
    ['seed digest', 0],
    ['zh-Hans variant', 1],
  ])('scores the %s at most 0.5', (_name, i) => {
    // -L: local tests only (no DNS/network); exit code is 0 or 1 by verdict, so read the report.
    let out: string;
    try {
      out = execFileSync('spamassassin', ['-L', '-t'], { input: readFileSync(files[i]!), encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? '');
    }
    const score = Number(/Content analysis details:\s+\((-?[\d.]+) points/.exec(out)?.[1]);
    expect(score, out.slice(out.indexOf('Content analysis'))).toBeLessThanOrEqual(0.5);
  });
});
