import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sink, startSink } from '../fixtures/delivery/sink.ts';
import { workspaceArgs } from '../helpers/cli.ts';
import { startServe, stopServe } from '../helpers/serve.ts';

// Against a real `broadsheet serve` and a loopback SMTP sink: the one-click
// POST to a confirmation link (its List-Unsubscribe target) cancels the pending
// signup for good, and subscribers.perAddressPerDay stops further mail to one
// address while the public answer stays the same. Its own server, so the other
// signup tests' posts do not use up this one's per-IP limit.

const FORM = 'application/x-www-form-urlencoded';
const EMAIL = 'limited@example.com';
let dir: string;
let proc: ChildProcess;
let base: string;
let sink: Sink;

const post = (body: object) =>
  fetch(`${base}/subscribe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const mailsTo = (addr: string) => sink.received.filter((m) => m.to.includes(addr));
const linkIn = (text: string) => /https?:\/\/\S+\/c\/(v2\.[A-Za-z0-9_-]+)/.exec(text)![1]!;
const oneClick = (token: string) =>
  fetch(`${base}/c/${token}`, {
    method: 'POST',
    headers: { 'content-type': FORM },
    body: 'List-Unsubscribe=One-Click',
  });

function count(sql: string): number {
  const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as number;
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

beforeAll(async () => {
  sink = await startSink();
  dir = mkdtempSync(join(tmpdir(), 'bs-signup-limits-'));
  writeFileSync(
    join(dir, 'broadsheet.config.yaml'),
    'subscribers:\n  perIpPerHour: 50\n  perAddressPerDay: 2\n',
  );
  ({ base, proc } = await startServe(workspaceArgs(dir), {
    BROADSHEET_SECRET: 'signup-limits-secret-0123456789abcdef',
    BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
    SMTP_URL: sink.url,
  }));
}, 60_000);

afterAll(async () => {
  await stopServe(proc);
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('one-click cancel and the per-address limit', () => {
  let answer: string;

  it('one-click POST to /c/<token> cancels the pending signup: no later confirm', async () => {
    const r = await post({ email: EMAIL });
    expect(r.status).toBe(202);
    answer = await r.text();
    const token = linkIn((await simpleParser((await waitFor(() => mailsTo(EMAIL)[0])).raw)).text!);
    expect((await oneClick(token)).status).toBe(200);
    expect((await fetch(`${base}/c/${token}`)).status).toBe(400);
    const confirm = await fetch(`${base}/c/${token}`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'confirm=yes',
    });
    expect(confirm.status).toBe(400);
    expect(count('SELECT count(*) FROM subscribers')).toBe(0);
    expect(count(`SELECT count(*) FROM signups WHERE email = '${EMAIL}'`)).toBe(0);
  });

  it('past perAddressPerDay: the same answer, and no further email at the sink', async () => {
    // Second signup (within the limit of 2): a fresh confirmation, cancelled again.
    const second = await post({ email: EMAIL });
    expect(second.status).toBe(202);
    expect(await second.text()).toBe(answer);
    const token = linkIn((await simpleParser((await waitFor(() => mailsTo(EMAIL)[1])).raw)).text!);
    expect((await oneClick(token)).status).toBe(200);
    // Third and fourth: nothing pending, so only the limit keeps these from mailing.
    for (const email of [EMAIL, 'Limited@Example.com']) {
      const r = await post({ email });
      expect(r.status).toBe(202);
      expect(await r.text()).toBe(answer);
    }
    // A marker signup after them: once its mail is in, any for EMAIL would have been too.
    expect((await post({ email: 'marker@example.com' })).status).toBe(202);
    await waitFor(() => mailsTo('marker@example.com')[0]);
    expect(mailsTo(EMAIL)).toHaveLength(2);
    expect(count(`SELECT count(*) FROM signups WHERE email = '${EMAIL}'`)).toBe(0);
  });
});
