import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../../src/delivery/tokens.ts';
import { cli } from '../helpers/cli.ts';
import { fewCardsConfig, fewCardsText } from '../helpers/few-cards.ts';
import { seedOut } from '../helpers/prebuilt.ts';

// The subscriber list and the outbox/json transports through the real CLI,
// as ops would drive them: import, remove, re-import, list, send, send again.

const dir = mkdtempSync(join(tmpdir(), 'bs-subs-'));
const out = join(dir, 'out');
const store = join(dir, 'data', 'db.sqlite');
const secret = 'test-secret-for-tokens-0123456789';
const env = { BROADSHEET_SECRET: secret };
// Few cards: this file is about the subscriber list and the transports.
// Direct article links: the zh-Hans check below reads them (click links: tests/*/analytics-*).
const config = fewCardsConfig(dir, 'analytics:\n  enabled: false\n');
const run = (args: string[], s = store) =>
  cli([...args, '--config', config, '--out', out, '--store', s], { env });
const EDITION = 'daily-2025-12-10';

const csv = join(dir, 'readers.csv');
writeFileSync(
  csv,
  [
    'email,name,locale,topics',
    'Chan.TaiMan@Example.com,陳大文,zh-Hant-HK,要聞',
    'not-an-email,乙,,',
    'chan.taiman@example.com,重複,,',
    'li@example.com,"李, 小梅",zh-Hans,科技;AI',
    'gone@example.com,離開,,',
  ].join('\n'),
);

beforeAll(() => {
  // The sample's out/ built once per run (the config without the analytics line): this build keeps the cards.
  seedOut(out, fewCardsText());
  expect(run(['build']).code).toBe(0);
});

describe('subscribers', () => {
  it('imports the good rows, reports bad and repeated rows by line, exits 1', () => {
    const r = run(['subscribers', 'import', csv]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('3 added');
    expect(r.stderr).toContain('readers.csv:3 → email');
    expect(r.stderr).toMatch(/readers\.csv:4: chan\.taiman@example\.com repeats line 2/);
  });

  it('keeps a removed address unsubscribed when it is imported again', () => {
    expect(run(['subscribers', 'remove', 'GONE@example.com']).code).toBe(0);
    run(['subscribers', 'import', csv]);
    const list = JSON.parse(run(['subscribers', 'list', '--json']).stdout) as {
      id: number;
      email: string;
      status: string;
      name: string;
      unsubscribeUrl: string;
    }[];
    expect(list.map((s) => [s.email, s.status])).toEqual([
      ['chan.taiman@example.com', 'active'],
      ['li@example.com', 'active'],
      ['gone@example.com', 'unsubscribed'],
    ]);
    expect(list[1]!.name).toBe('李, 小梅');
    // Every listed URL carries a token that verifies with the env secret and names its reader
    // (by row id, inside the encrypted token: the address is not in the URL).
    for (const s of list) {
      const token = s.unsubscribeUrl.split('/u/')[1]!;
      expect(verifyToken([Buffer.from(secret)], token, 'u')).toMatchObject({ v: 2, id: s.id, list: 'daily' });
      expect(s.unsubscribeUrl).not.toContain(s.email);
      // The local part too, where it is long enough that a random token cannot hold it by chance:
      // 'li' is in about 1 in 55 tokens (a run failed on …Tnlib39…); 4 letters, about 1 in 200,000.
      const local = s.email.split('@')[0]!;
      if (local.length >= 4) expect(s.unsubscribeUrl).not.toContain(local);
    }
  });
});

describe('send', () => {
  it('renders and counts on --dry-run without sending anything', () => {
    const r = run(['send', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/dry run daily-2025-12-10 \(outbox\): 2 message\(s\) rendered/);
    expect(existsSync(join(out, EDITION, 'outbox'))).toBe(false);
  });

  it('writes one .eml per active reader through the outbox, and nothing the second time', async () => {
    const r = run(['send', '--transport', 'outbox']);
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(join(out, EDITION, 'outbox')).sort();
    expect(files).toEqual(['chan.taiman@example.com.eml', 'li@example.com.eml']);
    const raw = readFileSync(join(out, EDITION, 'outbox', 'li@example.com.eml'));
    expect(raw.toString()).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    const li = await simpleParser(raw);
    expect(li.to && 'text' in li.to ? li.to.text : '').toContain('li@example.com');
    // zh-Hans reader: converted text, untouched links.
    expect(li.text).toContain('数读');
    expect(li.text).toContain('https://news.example.com/2025/12/10/china-ai-patents-lead');
    expect(li.text).toContain('李, 小梅');
    const again = run(['send', '--transport', 'outbox']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/sent 0/);
    expect(readdirSync(join(out, EDITION, 'outbox'))).toHaveLength(2);
  });

  it('appends one JSON line per message through the json transport', () => {
    const other = join(dir, 'data', 'other.sqlite');
    expect(run(['subscribers', 'import', csv], other).code).toBe(1);
    const r = run(['send', '--transport', 'json', '--limit', '1'], other);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(join(out, EDITION, 'messages.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(1);
    const m = JSON.parse(lines[0]!) as { messageId: string; envelope: { to: string[] }; raw: string };
    expect(m.messageId).toMatch(/@news\.example\.com>?$/);
    expect(m.raw).toMatch(/^List-Unsubscribe: <https:/m);
    const rest = run(['send', '--transport', 'json'], other);
    expect(rest.code, rest.stderr).toBe(0);
    const all = readFileSync(join(out, EDITION, 'messages.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const to = all.map((l) => (JSON.parse(l) as { envelope: { to: string[] } }).envelope.to.join());
    expect(to.sort()).toEqual(['chan.taiman@example.com', 'gone@example.com', 'li@example.com']);
  });
});
