// `broadsheet send --to <address>` through the real CLI: one message to one
// address, through the configured transport (a real smtp-server on 127.0.0.1,
// the outbox), its subject marked as a test, its unsubscribe link naming no
// one — and the store untouched: no `sends` row, no subscriber changed.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MARKERS, testMarker } from '../../src/delivery/test-send.ts';
import { openStore, SubscriberRepo } from '../../src/store/index.ts';
import { EDITION, stageDigest, tempDir } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink } from '../fixtures/delivery/sink.ts';
import { BIN, ROOT } from '../helpers/cli.ts';
import { closedPort, startRawSmtp } from '../helpers/smtp-raw.ts';

const READERS = ['a@example.com', 'editor@example.com'];
const TO = 'editor@example.com';

/** The CLI, spawned asynchronously: the servers it talks to live in this process. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        DEBUG: '',
        LOG_LEVEL: 'warn',
        BROADSHEET_SECRET: 'test-send',
        SMTP_URL: '',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => {
      stdout += c;
    });
    p.stderr.on('data', (c) => {
      stderr += c;
    });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A newsroom with a staged digest and two active readers, one of them the test address. */
function newsroom() {
  const dir = tempDir('bs-test-send-');
  const store = join(dir, 'data', 'broadsheet.db');
  const out = join(dir, 'out');
  const config = join(dir, 'broadsheet.config.yaml');
  writeFileSync(
    config,
    [
      'publicUrl: https://news.example.com/broadsheet/',
      'delivery:',
      '  retries: 1',
      '  backoffMs: 10',
      '  connectionTimeoutMs: 1000',
      '  greetingTimeoutMs: 1000',
      '  socketTimeoutMs: 2000',
      '  dataTimeoutMs: 1000',
      '',
    ].join('\n'),
  );
  stageDigest(out);
  const db = openStore(store);
  new SubscriberRepo(db).upsertMany(
    READERS.map((email) => ({ email })),
    'test',
  );
  db.close();
  const args = ['--config', config, '--store', store, '--out', out, '--content', join(dir, 'content')];
  const run = (more: string[], env: NodeJS.ProcessEnv = {}) => cli([...args, 'send', ...more], env);
  /** Everything a send could change in the store, as it stands now. */
  const snapshot = () => {
    const s = new Database(store, { readonly: true });
    try {
      return {
        sends: s.prepare('SELECT count(*) FROM sends').pluck().get(),
        runs: s.prepare("SELECT count(*) FROM runs WHERE kind = 'send'").pluck().get(),
        subscribers: s.prepare('SELECT * FROM subscribers ORDER BY email').all(),
      };
    } finally {
      s.close();
    }
  };
  return { dir, out, store, run, snapshot };
}

let sink: Sink;
beforeAll(async () => {
  // editor@example.com is accepted; refused@example.com is refused at RCPT like a dead mailbox.
  sink = await startSink((stage, rcpt) =>
    stage === 'rcpt' && rcpt === 'refused@example.com' ? '550 5.1.1 No such user' : undefined,
  );
});
afterAll(() => sink.close());

describe('broadsheet send --to through smtp (a real smtp-server on 127.0.0.1)', () => {
  it('delivers exactly one message to that address, marked as a test, and leaves the store as it was', async () => {
    const n = newsroom();
    const before = n.snapshot();
    sink.received.length = 0;
    const r = await n.run(['--edition', EDITION, '--to', TO], { SMTP_URL: sink.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`to ${TO} via smtp`);
    expect(sink.received).toHaveLength(1);
    const [m] = sink.received;
    expect(m!.to).toEqual([TO]);
    const mail = await simpleParser(m!.raw);
    expect(mail.subject).toBe(`${TEST_MARKERS['zh-Hant']}大公報｜12月10日：數讀中國AI發展`);
    // The unsubscribe links (header and footer) are not a token: they unsubscribe no one.
    expect(m!.raw.toString('latin1')).toMatch(
      /^List-Unsubscribe: <https:\/\/news\.example\.com\/broadsheet\/u\/test-send>/m,
    );
    expect(mail.html).toContain('https://news.example.com/broadsheet/u/test-send');
    expect(mail.text).toContain('讀者，你好'); // email.defaultName: a test has no reader name
    expect(mail.messageId).toMatch(/^<test\.daily-2025-12-10\.[0-9a-f]{16}@news\.example\.com>$/);
    // Nothing recorded: no ledger row, no send run, every reader exactly as before.
    expect(n.snapshot()).toEqual(before);
    expect(before.sends).toBe(0);
  });

  it('works without any store or subscribers (none is created)', async () => {
    const dir = tempDir('bs-test-send-empty-');
    const out = join(dir, 'out');
    stageDigest(out);
    const store = join(dir, 'nowhere.db');
    sink.received.length = 0;
    const r = await cli(['--out', out, '--store', store, 'send', '--edition', EDITION, '--to', TO], {
      SMTP_URL: sink.url,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(sink.received).toHaveLength(1);
    expect(existsSync(store)).toBe(false);
  });

  it('--json gives the result as one document', async () => {
    const n = newsroom();
    const r = await n.run(['--edition', EDITION, '--to', TO, '--json'], { SMTP_URL: sink.url });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      edition: EDITION,
      to: TO,
      transport: 'smtp',
      subject: expect.stringMatching(/^\[測試\] /),
    });
  });
});

describe('broadsheet send --to through the outbox', () => {
  it('writes one .eml under out/<edition>/test-send/, which a real send neither overwrites nor counts', async () => {
    const n = newsroom();
    const r = await n.run(['--edition', EDITION, '--to', TO, '--transport', 'outbox']);
    expect(r.code, r.stderr).toBe(0);
    const testFile = join(n.out, EDITION, 'test-send', 'outbox', `${TO}.eml`);
    expect(readdirSync(join(n.out, EDITION, 'test-send', 'outbox'))).toEqual([`${TO}.eml`]);
    const testEml = readFileSync(testFile);
    expect((await simpleParser(testEml)).subject).toMatch(/^\[測試\] /);
    expect(existsSync(join(n.out, EDITION, 'outbox'))).toBe(false);
    expect(n.snapshot().sends).toBe(0);

    // The real send afterwards: every reader once in outbox/, the test file untouched.
    const real = await n.run(['--edition', EDITION, '--transport', 'outbox']);
    expect(real.code, real.stderr).toBe(0);
    expect(readdirSync(join(n.out, EDITION, 'outbox')).sort()).toEqual(READERS.map((a) => `${a}.eml`));
    expect(readFileSync(testFile).equals(testEml)).toBe(true);
    const realSubject = (await simpleParser(readFileSync(join(n.out, EDITION, 'outbox', `${TO}.eml`))))
      .subject;
    expect(realSubject).not.toMatch(/測試/);
    expect(n.snapshot().sends).toBe(2);
  });
});

describe('broadsheet send --to through the json transport', () => {
  it('appends its one line to out/<edition>/test-send/messages.jsonl, not the real messages.jsonl', async () => {
    const n = newsroom();
    const r = await n.run(['--edition', EDITION, '--to', TO, '--transport', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(join(n.out, EDITION, 'test-send', 'messages.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).envelope.to).toEqual([TO]);
    expect(existsSync(join(n.out, EDITION, 'messages.jsonl'))).toBe(false);
  });
});

describe('broadsheet send --to: usage and faults', () => {
  it('with --dry-run or --limit is a usage error (exit 2), nothing sent', async () => {
    const n = newsroom();
    sink.received.length = 0;
    for (const extra of [['--dry-run'], ['--limit', '1']]) {
      const r = await n.run(['--edition', EDITION, '--to', TO, ...extra], { SMTP_URL: sink.url });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error USAGE: --to .*--dry-run or --limit/m);
    }
    expect(sink.received).toHaveLength(0);
  });

  it('a malformed address is TEST_SEND_ADDRESS (exit 2), nothing sent', async () => {
    const n = newsroom();
    sink.received.length = 0;
    for (const bad of ['not-an-address', 'Ed <editor@example.com>', 'a@example.com,b@example.com', '']) {
      const r = await n.run(['--edition', EDITION, '--to', bad], { SMTP_URL: sink.url });
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^error TEST_SEND_ADDRESS: /m);
    }
    expect(sink.received).toHaveLength(0);
  });

  it('nothing listening: SMTP_UNREACHABLE, exit 1, as a real send ends', async () => {
    const n = newsroom();
    const r = await n.run(['--edition', EDITION, '--to', TO], {
      SMTP_URL: `smtp://127.0.0.1:${await closedPort()}`,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error SMTP_UNREACHABLE: /m);
    expect(n.snapshot().sends).toBe(0);
  });

  it('a server that never greets: SMTP_TIMEOUT within the configured limit, exit 1 (no hang)', async () => {
    const raw = await startRawSmtp({ kind: 'silent' });
    try {
      const r = await newsroom().run(['--edition', EDITION, '--to', TO], {
        SMTP_URL: `smtp://127.0.0.1:${raw.port}`,
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error SMTP_TIMEOUT: .*no greeting within 1000 ms/m);
    } finally {
      await raw.close();
    }
  });

  it('a wrong password: SMTP_AUTH, exit 2', async () => {
    const auth = await startSink(() => undefined, { auth: { user: 'newsroom', pass: 'right' } });
    try {
      const r = await newsroom().run(['--edition', EDITION, '--to', TO], {
        SMTP_URL: `smtp://newsroom:wrong@127.0.0.1:${auth.port}`,
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error SMTP_AUTH: /m);
      expect(auth.received).toHaveLength(0);
    } finally {
      await auth.close();
    }
  });

  it('a recipient the server refuses: TEST_SEND_REFUSED, exit 1, and no reader is bounced', async () => {
    const n = newsroom();
    const before = n.snapshot();
    const r = await n.run(['--edition', EDITION, '--to', 'refused@example.com'], { SMTP_URL: sink.url });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error TEST_SEND_REFUSED: .*550/m);
    expect(n.snapshot()).toEqual(before);
  });
});

describe('the test marker follows the digest language', () => {
  it('Traditional, Simplified and English digests get their own marker', () => {
    expect(testMarker('<html lang="zh-Hant-HK">')).toBe('[測試] ');
    expect(testMarker('<html lang="zh-Hans">')).toBe('[测试] ');
    expect(testMarker('<html lang="en-GB">')).toBe('[TEST] ');
    expect(testMarker('<html>')).toBe('[測試] ');
    expect(testMarker('<html lang="zh-Hant-HK">', 'zh-Hans')).toBe('[测试] ');
  });
});
