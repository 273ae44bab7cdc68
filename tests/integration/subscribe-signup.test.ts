import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sink, startSink } from '../fixtures/delivery/sink.ts';
import { cli, workspaceArgs } from '../helpers/cli.ts';
import { startServe, stopServe } from '../helpers/serve.ts';

// Public signup with double opt-in against a real `broadsheet serve` and a real
// loopback SMTP sink: the confirmation arrives at the sink, GET of its link
// changes nothing, POST activates; the answer never tells whether an address
// is known; honeypot, malformed and oversized posts, and floods.

const FORM = 'application/x-www-form-urlencoded';
const SECRET = 'signup-test-secret-0123456789abcdef';
let dir: string;
let proc: ChildProcess;
let base: string;
let sink: Sink;

const post = (body: string | object, headers: Record<string, string> = {}) =>
  fetch(`${base}/subscribe`, {
    method: 'POST',
    headers: { 'content-type': typeof body === 'string' ? FORM : 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

function query<T>(sql: string, ...args: unknown[]): T[] {
  const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

async function waitFor<T>(f: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const mailsTo = (addr: string) => sink.received.filter((m) => m.to.includes(addr));
const linkIn = (text: string) => /https?:\/\/\S+\/c\/(v2\.[A-Za-z0-9_-]+)/.exec(text)![1]!;

beforeAll(async () => {
  sink = await startSink();
  dir = mkdtempSync(join(tmpdir(), 'bs-signup-'));
  writeFileSync(
    join(dir, 'broadsheet.config.yaml'),
    'subscribers:\n  perIpPerHour: 20\n  perAddressPerDay: 3\n  topics: [科技, 財經]\n',
  );
  ({ base, proc } = await startServe(workspaceArgs(dir), {
    BROADSHEET_SECRET: SECRET,
    BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
    SMTP_URL: sink.url,
  }));
}, 60_000);

afterAll(async () => {
  await stopServe(proc);
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('signup → confirmation at the sink → GET changes nothing → POST activates', () => {
  let token: string;
  let newAnswer: string;

  it('the hosted page is a plain form with the configured topics and a hidden honeypot', async () => {
    const r = await fetch(`${base}/subscribe?edition=daily`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('<form method="post" action="subscribe">');
    expect(html).toContain('value="科技"');
    expect(html).toMatch(/<p hidden[^>]*>.*name="website"/);
    expect(html).not.toContain('<script');
    expect((await fetch(`${base}/subscribe?edition=nope`)).status).toBe(404);
  });

  it('a form POST answers 202 and the confirmation reaches the sink, in the reader’s language', async () => {
    const r = await post(
      'email=Chan.SiuMan%40example.com&name=%E9%99%B3&locale=zh-Hans&topics=%E7%A7%91%E6%8A%80',
    );
    expect(r.status).toBe(202);
    newAnswer = await r.text();
    const m = await waitFor(() => mailsTo('chan.siuman@example.com')[0]);
    const mail = await simpleParser(m.raw);
    expect(mail.subject).toContain('请确认订阅');
    token = linkIn(mail.text!);
    expect(mail.html).toContain(`/c/${token}`);
    // The confirm link is the List-Unsubscribe target too (a one-click there cancels the signup).
    expect(String(mail.headers.get('list-unsubscribe') ?? m.raw.toString())).toContain('/c/');
    expect(query('SELECT state FROM confirm_sends')).toEqual([{ state: 'sent' }]);
  });

  it('GET of the link shows a button and changes nothing', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${base}/c/${token}`);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('name="confirm" value="yes"');
    }
    expect(query('SELECT * FROM subscribers')).toEqual([]);
  });

  it('POST confirms: the reader is active with their choices and a consent record', async () => {
    const r = await fetch(`${base}/c/${token}`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'confirm=yes',
    });
    expect(r.status).toBe(200);
    const [s] = query<{ email: string; status: string; locale: string; topics: string; name: string }>(
      'SELECT * FROM subscribers',
    );
    expect(s).toMatchObject({
      email: 'chan.siuman@example.com',
      status: 'active',
      locale: 'zh-Hans',
      name: '陳',
    });
    expect(JSON.parse(s!.topics)).toEqual(['科技']);
    const consent = query<{ source: string; signup_at: string; confirmed_at: string; ip_hash: string }>(
      'SELECT * FROM consent',
    );
    expect(consent).toHaveLength(1);
    expect(consent[0]).toMatchObject({ source: 'form' });
    expect(consent[0]!.confirmed_at > consent[0]!.signup_at).toBe(true);
    expect(consent[0]!.ip_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(consent[0]!.ip_hash).not.toContain('127.0.0.1');
    // The pending row no longer holds the address.
    expect(JSON.stringify(query('SELECT * FROM signups'))).not.toContain('chan.siuman');
    // Confirming again is harmless.
    const again = await fetch(`${base}/c/${token}`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'confirm=yes',
    });
    expect(again.status).toBe(200);
  });

  it('an active address gets the same answer as a new one, and no email', async () => {
    const r = await post('email=chan.siuman%40example.com&locale=zh-Hans');
    expect(r.status).toBe(202);
    expect(await r.text()).toBe(newAnswer);
    // A new address posted after it: once its mail is in, the earlier (none) would have been too.
    await post('email=later%40example.com');
    await waitFor(() => mailsTo('later@example.com')[0]);
    expect(mailsTo('chan.siuman@example.com')).toHaveLength(1);
  });

  it('a repeated signup while pending sends no second confirmation', async () => {
    expect((await post({ email: 'twice@example.com' })).status).toBe(202);
    await waitFor(() => mailsTo('twice@example.com')[0]);
    expect((await post({ email: 'TWICE@example.com' })).status).toBe(202);
    await post('email=marker2%40example.com');
    await waitFor(() => mailsTo('marker2@example.com')[0]);
    expect(mailsTo('twice@example.com')).toHaveLength(1);
  });

  it('a forged, altered or wrong-kind token is 400 and changes nothing', async () => {
    const bad = [`${token.slice(0, -2)}AA`, 'v2.garbage', 'garbage'];
    for (const t of bad) {
      expect((await fetch(`${base}/c/${t}`)).status).toBe(400);
      const r = await fetch(`${base}/c/${t}`, {
        method: 'POST',
        headers: { 'content-type': FORM },
        body: 'confirm=yes',
      });
      expect(r.status).toBe(400);
    }
    // An unsubscribe link of the same reader is not a confirm link.
    const list = JSON.parse(
      cli(['subscribers', 'list', '--json', ...workspaceArgs(dir)], { env: { BROADSHEET_SECRET: SECRET } })
        .stdout,
    ) as { unsubscribeUrl: string }[];
    const u = list[0]!.unsubscribeUrl.split('/u/')[1]!;
    expect((await fetch(`${base}/c/${u}`)).status).toBe(400);
  });
});

describe('coming back: only a fresh confirmation re-subscribes', () => {
  const cliEnv = { BROADSHEET_SECRET: SECRET };
  async function signUpAndConfirm(email: string) {
    const before = mailsTo(email).length;
    expect((await post({ email })).status).toBe(202);
    const m = await waitFor(() => mailsTo(email)[before]);
    const token = linkIn((await simpleParser(m.raw)).text!);
    const r = await fetch(`${base}/c/${token}`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'confirm=yes',
    });
    expect(r.status).toBe(200);
  }
  const status = (email: string) =>
    query<{ status: string }>('SELECT status FROM subscribers WHERE email = ?', email)[0]?.status;

  it('an unsubscribed reader who signs up again is active only after confirming', async () => {
    const email = 'returning@example.com';
    await signUpAndConfirm(email);
    expect(cli(['subscribers', 'remove', email, ...workspaceArgs(dir)], { env: cliEnv }).code).toBe(0);
    expect(status(email)).toBe('unsubscribed');
    expect((await post({ email })).status).toBe(202);
    const m = await waitFor(() => mailsTo(email)[1]);
    expect(status(email)).toBe('unsubscribed');
    const token = linkIn((await simpleParser(m.raw)).text!);
    await fetch(`${base}/c/${token}`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'confirm=yes',
    });
    expect(status(email)).toBe('active');
    // Two consent records: the first signup and the re-subscription, both confirmed.
    const id = query<{ id: number }>('SELECT id FROM subscribers WHERE email = ?', email)[0]!.id;
    const consent = query<{ confirmed_at: string | null }>(
      'SELECT confirmed_at FROM consent WHERE subscriber_id = ?',
      id,
    );
    expect(consent).toHaveLength(2);
    expect(consent.every((c) => c.confirmed_at)).toBe(true);
  });

  it('a forgotten reader can come back by confirming; `subscribers add` alone cannot', async () => {
    const email = 'forgotten@example.com';
    await signUpAndConfirm(email);
    expect(cli(['subscribers', 'forget', email, ...workspaceArgs(dir)], { env: cliEnv }).code).toBe(0);
    expect(query('SELECT * FROM suppression')).toHaveLength(1);
    const add = cli(['subscribers', 'add', email, ...workspaceArgs(dir)], { env: cliEnv });
    expect(add.stderr).toContain('SUBSCRIBER_SUPPRESSED');
    await signUpAndConfirm(email);
    expect(status(email)).toBe('active');
    expect(query('SELECT * FROM suppression')).toHaveLength(0);
  });
});

describe('bad input, bots and floods', () => {
  it('malformed posts get a clear message and a 4xx; nothing is stored', async () => {
    const before = query('SELECT id FROM signups').length;
    const form = await post('email=not-an-address');
    expect(form.status).toBe(400);
    expect(await form.text()).toContain('請填寫有效的電郵地址');
    expect((await post({ email: 'a@example.com', locale: 'xx' })).status).toBe(400);
    expect((await post({ email: 'a@example.com', edition: 'nope' })).status).toBe(400);
    expect((await post('{not json', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await post(`email=${'a'.repeat(300)}%40example.com`)).status).toBe(400);
    expect(query('SELECT id FROM signups').length).toBe(before);
  });

  it('a filled honeypot gets the normal answer and nothing happens', async () => {
    const r = await post('email=bot%40example.com&website=http%3A%2F%2Fspam.example');
    expect(r.status).toBe(202);
    await post('email=marker3%40example.com');
    await waitFor(() => mailsTo('marker3@example.com')[0]);
    expect(mailsTo('bot@example.com')).toHaveLength(0);
    expect(query("SELECT id FROM signups WHERE email = 'bot@example.com'")).toHaveLength(0);
  });

  it('per-IP flood: 429 once the hourly limit is used up', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 22; i++) codes.push((await post({ email: `flood${i}@example.com` })).status);
    expect(codes).toContain(429);
    expect(codes.at(-1)).toBe(429);
  });

  // Last: after a 413 the server closes the connection, which a pooled socket would trip over.
  it('an oversized post is 413 and stores nothing', async () => {
    const before = query('SELECT id FROM signups').length;
    const big = await post(`email=x%40example.com&name=${'x'.repeat(200_000)}`);
    expect(big.status).toBe(413);
    expect(query('SELECT id FROM signups').length).toBe(before);
  });
});
