import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preferencesToken } from '../../src/delivery/unsubscribe.ts';
import { cli, workspaceArgs } from '../helpers/cli.ts';
import { DIRECT_LINKS_FEW_CARDS_YAML, FEW_CARDS_YAML } from '../helpers/few-cards.ts';
import { seedOut } from '../helpers/prebuilt.ts';
import { startServe, stopServe } from '../helpers/serve.ts';

// The preference centre (/p/<token>) on a real `serve`, and what it changes in
// the next real send (outbox transport): one reader's language and a pause,
// and nobody else's digest. Then every URL of every composed email is checked
// for the reader's address in any readable encoding.

const FORM = 'application/x-www-form-urlencoded';
const SECRET = 'preferences-test-secret-0123456789';
const EDITION = 'daily-2025-12-10';
const A = 'au.yeung@example.com';
const B = 'paused.reader@example.com';
const C = 'plain.reader@example.com';
let dir: string;
let proc: ChildProcess;
let base: string;
const env = { BROADSHEET_SECRET: SECRET, BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/' };
const run = (args: string[]) => cli([...args, ...workspaceArgs(dir)], { env });
const ids: Record<string, number> = {};
const pref = (email: string) => `${base}/p/${preferencesToken([Buffer.from(SECRET)], 'daily', ids[email]!)}`;
const save = (email: string, body: string, headers: Record<string, string> = {}) =>
  fetch(pref(email), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, ...headers },
    body,
  });

function row(email: string) {
  const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT * FROM subscribers WHERE email = ?').get(email) as Record<
      string,
      string | null
    >;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bs-prefs-'));
  writeFileSync(
    join(dir, 'broadsheet.config.yaml'),
    `subscribers:\n  topics: [科技, 財經]\n${FEW_CARDS_YAML}`,
  );
  const csv = join(dir, 'r.csv');
  writeFileSync(
    csv,
    ['email,name,locale,topics', `${A},歐陽,zh-Hant-HK,`, `${B},乙,,`, `${C},丙,,`].join('\n'),
  );
  // The sample's out/ built once per run (another file's config): this build keeps the cards, renders its digest.
  seedOut(join(dir, 'out'), DIRECT_LINKS_FEW_CARDS_YAML);
  expect(run(['build']).code).toBe(0);
  expect(run(['subscribers', 'import', csv]).code).toBe(0);
  for (const s of JSON.parse(run(['subscribers', 'list', '--json']).stdout) as {
    id: number;
    email: string;
  }[])
    ids[s.email] = s.id;
  ({ base, proc } = await startServe(workspaceArgs(dir), env));
}, 120_000);

afterAll(async () => {
  await stopServe(proc);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('preference centre', () => {
  it('GET shows the reader’s settings with the address masked, as a form that works without JavaScript', async () => {
    const r = await fetch(pref(A));
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('a***@example.com');
    expect(html).not.toContain(A);
    expect(html).toContain('<form method="post">');
    expect(html).toContain('name="pausedUntil"');
    expect(html).toContain('value="科技"');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).not.toContain('<script');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('refuses a cross-site POST, a forged token and bad values, changing nothing', async () => {
    expect((await save(A, 'name=x', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await save(A, 'name=x', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const forged = await fetch(`${base}/p/v2.${'A'.repeat(60)}`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'name=x',
    });
    expect(forged.status).toBe(400);
    expect((await save(A, 'pausedUntil=next+week')).status).toBe(400);
    expect((await save(A, 'locale=fr')).status).toBe(400);
    expect((await save(A, `name=${'x'.repeat(80)}`)).status).toBe(400);
    expect(row(A)).toMatchObject({ name: '歐陽', locale: 'zh-Hant-HK', paused_until: null });
  });

  it('saves language, topics and name (303 back, "saved"); another reader pauses', async () => {
    const r = await save(
      A,
      'name=%E6%AD%90%E9%99%BD%E5%A4%AA&locale=zh-Hans&topics=%E7%A7%91%E6%8A%80&topics=nope',
    );
    expect(r.status).toBe(303);
    const back = await fetch(new URL(r.headers.get('location')!, pref(A)));
    expect(await back.text()).toContain('已儲存');
    expect(row(A)).toMatchObject({ name: '歐陽太', locale: 'zh-Hans', topics: '["科技"]' });
    expect((await save(B, 'pausedUntil=2999-01-01')).status).toBe(303);
    expect(row(B)).toMatchObject({ paused_until: '2999-01-01', status: 'active' });
    // An unrelated reader is untouched.
    expect(row(C)).toMatchObject({ name: '丙', locale: null, topics: '[]' });
  });

  it('the next send follows them: A in Simplified, B paused, C as before', async () => {
    const r = run(['send', '--transport', 'outbox']);
    expect(r.code).toBe(0);
    const box = join(dir, 'out', EDITION, 'outbox');
    expect(existsSync(join(box, `${B}.eml`))).toBe(false);
    const a = await simpleParser(readFileSync(join(box, `${A}.eml`)));
    const c = await simpleParser(readFileSync(join(box, `${C}.eml`)));
    expect(a.html).toContain('lang="zh-Hans"');
    expect(a.html).toContain('歐陽太');
    expect(c.html).toContain('lang="zh-Hant-HK"');
    // Every digest footer links to the reader's own preference centre, which opens.
    const link = /href="(http:\/\/127\.0\.0\.1\/p\/[^"]+)"/.exec(String(a.html))![1]!;
    expect(a.text).toContain(link);
    expect((await fetch(`${base}${new URL(link).pathname}`)).status).toBe(200);
  });

  it('no URL in any composed email reads back (plain, percent, base64, base64url) to an address', async () => {
    const box = join(dir, 'out', EDITION, 'outbox');
    const files = readdirSync(box);
    expect(files.length).toBe(2);
    for (const f of files) {
      const raw = readFileSync(join(box, f));
      const m = await simpleParser(raw);
      const headers = raw.toString('latin1').split('\r\n\r\n')[0]!;
      const urls = new Set(
        [String(m.html), String(m.text), headers].flatMap((s) =>
          [...s.matchAll(/(?:https?|mailto):[^\s"<>]+/g)].map((x) => x[0]),
        ),
      );
      expect(urls.size).toBeGreaterThan(3);
      for (const u of urls) {
        const pieces = [
          u,
          ...(() => {
            try {
              return [decodeURIComponent(u)];
            } catch {
              return [];
            }
          })(),
        ];
        for (const p of [...pieces])
          for (const part of p.split(/[/?=&.:%\s]+/))
            pieces.push(
              Buffer.from(part, 'base64url').toString('latin1'),
              Buffer.from(part, 'base64').toString('latin1'),
            );
        for (const p of pieces) {
          expect(p, u).not.toContain('@example.com');
          expect(p.toLowerCase(), u).not.toContain(f.replace('.eml', '').split('@')[0]!);
        }
      }
    }
  });
});
