// The review app's "send me a test" against a real `broadsheet serve` and a
// real smtp-server on 127.0.0.1: signed-in editors only, CSRF-checked, one
// message at the sink per press, 303 back with a notice, 429 past the per-editor
// limit — and the test's unsubscribe link, pressed one-click, unsubscribes no one.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SEND_LIMIT } from '../../src/review/test-send.ts';
import { openStore, SubscriberRepo } from '../../src/store/index.ts';
import { EDITION, stageDigest } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink } from '../fixtures/delivery/sink.ts';
import { workspaceArgs } from '../helpers/cli.ts';
import { startServe, stopServe } from '../helpers/serve.ts';
import { cookiesOf as cookieOf, csrfIn } from '../helpers/session.ts';

const PASSWORD = 'bootstrap pass 電池';
const FORM = 'application/x-www-form-urlencoded';
const ME = 'editor@example.com';

let dir: string;
let proc: ChildProcess;
let base: string;
let sink: Sink;

async function signIn(name: string) {
  const page = await fetch(`${base}/login`);
  const pre = cookieOf(page);
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, cookie: pre },
    body: new URLSearchParams({ _csrf: csrfIn(await page.text()), name, password: PASSWORD, next: '/' }),
  });
  expect(res.status).toBe(303);
  const cookie = cookieOf(res);
  const ed = await fetch(`${base}/e/${EDITION}`, { headers: { cookie } });
  return { cookie, csrf: csrfIn(await ed.text()) };
}

const press = (cookie: string, body: Record<string, string>) =>
  fetch(`${base}/e/${EDITION}/test-send`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, cookie },
    body: new URLSearchParams(body),
  });

const store = () => join(dir, 'db.sqlite');
function readStore() {
  const db = new Database(store(), { readonly: true });
  try {
    return {
      sends: db.prepare('SELECT count(*) FROM sends').pluck().get() as number,
      status: db.prepare('SELECT status FROM subscribers WHERE email = ?').pluck().get(ME) as string,
    };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  sink = await startSink();
  dir = mkdtempSync(join(tmpdir(), 'bs-review-test-send-'));
  stageDigest(join(dir, 'out'));
  writeFileSync(
    join(dir, 'broadsheet.config.yaml'),
    'delivery:\n  connectionTimeoutMs: 1000\n  greetingTimeoutMs: 1000\n  socketTimeoutMs: 2000\n  dataTimeoutMs: 1000\n',
  );
  // The editor is also a reader: the test must not touch her subscription.
  const db = openStore(store());
  new SubscriberRepo(db).upsertMany([{ email: ME }], 'test');
  db.close();
  ({ base, proc } = await startServe(workspaceArgs(dir), {
    BROADSHEET_SECRET: 'review-test-send',
    BROADSHEET_EDITOR_PASSWORD: PASSWORD,
    BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
    SMTP_URL: sink.url,
  }));
});

afterAll(async () => {
  await stopServe(proc);
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('review app: send me a test (in order)', () => {
  let me: { cookie: string; csrf: string };

  it('not signed in: 401 for the POST, and nothing is sent', async () => {
    const r = await press('', { to: ME });
    expect(r.status).toBe(401);
    expect(sink.received).toHaveLength(0);
  });

  it('signed in, the edition page shows the form; without the CSRF token the POST is 403', async () => {
    me = await signIn('值班編輯');
    const page = await (await fetch(`${base}/e/${EDITION}`, { headers: { cookie: me.cookie } })).text();
    expect(page).toContain(`action="/e/${EDITION}/test-send"`);
    expect(page).toContain('name="to" type="email"');
    const r = await press(me.cookie, { to: ME });
    expect(r.status).toBe(403);
    expect(sink.received).toHaveLength(0);
  });

  it('a press sends one message to that address, marked as a test, and 303s back with a notice', async () => {
    const r = await press(me.cookie, { _csrf: me.csrf, to: ME });
    expect(r.status).toBe(303);
    const location = r.headers.get('location')!;
    expect(location).toBe(`/e/${EDITION}?test=sent&to=${encodeURIComponent(ME)}#test-send`);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]!.to).toEqual([ME]);
    const mail = await simpleParser(sink.received[0]!.raw);
    expect(mail.subject).toMatch(/^\[測試\] /);
    expect(mail.text).toContain('值班編輯，你好'); // greeted by the editor's name
    const back = await fetch(`${base}${location}`, { headers: { cookie: `${me.cookie}; ${cookieOf(r)}` } });
    const html = await back.text();
    expect(html).toContain(`測試信已寄往 ${ME}`);
    expect(html).toContain(`value="${ME}"`); // the address is remembered for next time
    expect(readStore()).toEqual({ sends: 0, status: 'active' });
  });

  it("the test's one-click unsubscribe (List-Unsubscribe + Post) changes no reader", async () => {
    const raw = sink.received[0]!.raw.toString('latin1');
    const url = /^List-Unsubscribe: <([^>]+)>/m.exec(raw)![1]!;
    expect(url).toBe('http://127.0.0.1/u/test-send');
    // What a mail provider does with RFC 8058, against this server.
    const r = await fetch(`${base}${new URL(url).pathname}`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(r.status).toBe(400);
    expect(readStore()).toEqual({ sends: 0, status: 'active' });
  });

  it('a malformed address is 422 and sends nothing', async () => {
    const r = await press(me.cookie, { _csrf: me.csrf, to: 'Ed <editor@example.com>' });
    expect(r.status).toBe(422);
    expect(sink.received).toHaveLength(1);
  });

  it(`past ${TEST_SEND_LIMIT} presses in the window: 429 with Retry-After; another editor still can`, async () => {
    for (let i = 1; i < TEST_SEND_LIMIT; i++)
      expect((await press(me.cookie, { _csrf: me.csrf, to: ME })).status).toBe(303);
    expect(sink.received).toHaveLength(TEST_SEND_LIMIT);
    const over = await press(me.cookie, { _csrf: me.csrf, to: ME });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(sink.received).toHaveLength(TEST_SEND_LIMIT);
    const other = await signIn('夜班編輯');
    expect((await press(other.cookie, { _csrf: other.csrf, to: 'night@example.com' })).status).toBe(303);
    expect(sink.received.at(-1)!.to).toEqual(['night@example.com']);
    expect(readStore()).toEqual({ sends: 0, status: 'active' });
  });
});

describe('review app: send me a test with the mail server down', () => {
  it("ends with the transport's catalog code (SMTP_UNREACHABLE) on a 502 page", async () => {
    const { closedPort } = await import('../helpers/smtp-raw.ts');
    const down = mkdtempSync(join(tmpdir(), 'bs-review-test-send-down-'));
    stageDigest(join(down, 'out'));
    writeFileSync(join(down, 'broadsheet.config.yaml'), 'delivery:\n  connectionTimeoutMs: 1000\n');
    const s = await startServe(workspaceArgs(down), {
      BROADSHEET_SECRET: 'review-test-send',
      BROADSHEET_EDITOR_PASSWORD: PASSWORD,
      BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
      SMTP_URL: `smtp://127.0.0.1:${await closedPort()}`,
    });
    const keep = base;
    base = s.base;
    try {
      const ed = await signIn('值班編輯');
      const r = await press(ed.cookie, { _csrf: ed.csrf, to: ME });
      expect(r.status).toBe(502);
      expect(await r.text()).toContain('SMTP_UNREACHABLE');
    } finally {
      base = keep;
      await stopServe(s.proc);
      rmSync(down, { recursive: true, force: true });
    }
  });
});
