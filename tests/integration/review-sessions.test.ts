// Editor accounts and server-side sessions against a real `broadsheet serve`
// and the real `broadsheet editors …` CLI on one SQLite store: the bootstrap
// password until the first account, sign-in with an account, logout that ends
// a copied cookie at once, `editors sessions|revoke|passwd|remove|role`, roles
// (only admins publish), the sign-in rate limit, and the Origin/Sec-Fetch-Site
// checks beside the CSRF token — with RFC 8058 one-click unsubscribe still open.
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsubscribeToken } from '../../src/delivery/unsubscribe.ts';
import { PASSWORD as BOOTSTRAP, EDITION, writeEdition } from '../fixtures/review/edition.ts';
import { BIN, ROOT, workspaceArgs } from '../helpers/cli.ts';
import { startServe, stopServe } from '../helpers/serve.ts';
import { cookiesOf as cookieOf, csrfIn } from '../helpers/session.ts';

const SECRET = 'sessions-secret';
const FORM = 'application/x-www-form-urlencoded';
const ALICE = 'alice passphrase 一二三';
const BOB = 'bob passphrase 四五六';

let dir: string;
let proc: ChildProcess;
let base: string;
let logs: () => string;
const env = {
  BROADSHEET_SECRET: SECRET,
  BROADSHEET_EDITOR_PASSWORD: BOOTSTRAP,
  BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
};
const args = () => [...workspaceArgs(dir)];
/**
 * The real CLI, run asynchronously: a spawnSync would freeze this process's
 * event loop, and fetch's pooled keep-alive sockets would outlive the server's
 * keep-alive timeout unnoticed ("other side closed").
 */
function cli(
  a: string[],
  o: { input?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...a],
      { cwd: ROOT, env: { ...process.env, ...env, DEBUG: '', LOG_LEVEL: 'info' }, encoding: 'utf8' },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(o.input ?? '');
  });
}
const editors = (a: string[], input?: string) => cli(['editors', ...a, ...args()], { input });
// Each sign-in comes from its own address (trustProxy: X-Forwarded-For), so rate-limit buckets do not mix.
let client = 0;

async function signIn(name: string, password: string, headers: Record<string, string> = {}) {
  const ip = { 'x-forwarded-for': `10.0.0.${++client}`, ...headers };
  const page = await fetch(`${base}/login`, { headers: ip });
  const pre = cookieOf(page);
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, cookie: pre, 'user-agent': 'sessions-test/1', ...ip },
    body: new URLSearchParams({ _csrf: csrfIn(await page.text()), name, password, next: '/' }),
  });
  const cookie = cookieOf(res);
  const home =
    res.status === 303 ? await fetch(`${base}/`, { redirect: 'manual', headers: { cookie } }) : undefined;
  return { status: res.status, cookie, csrf: home ? csrfIn(await home.text()) : '' };
}

const get = (path: string, cookie: string) =>
  fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie } });
const post = (
  path: string,
  cookie: string,
  body: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, cookie, ...headers },
    body: new URLSearchParams(body),
  });
const approve = (cookie: string, csrf: string, platform = 'x', headers: Record<string, string> = {}) =>
  post(`/e/${EDITION}/p/china-ai-2025-1/${platform}`, cookie, { _csrf: csrf, action: 'approve' }, headers);
const sessions = async (all = false) =>
  JSON.parse((await editors(['sessions', '--json', ...(all ? ['--all'] : [])])).stdout) as {
    id: string;
    editor: string;
    role: string;
    bootstrap: boolean;
    state: string;
    createdAt: string;
    lastSeenAt: string;
    expiresAt: string;
    ipHash: string;
    userAgent: string;
    revokedReason: string | null;
  }[];
const sidOf = (cookie: string) => /bs_session=([^.;]+)\./.exec(cookie)![1]!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bs-review-sessions-'));
  await writeEdition(join(dir, 'out'));
  writeFileSync(
    join(dir, 'broadsheet.config.yaml'),
    'review:\n  trustProxy: true\n  login:\n    maxFailures: 3\n',
  );
  ({ base, proc, logs } = await startServe(args(), { ...env, LOG_LEVEL: 'info' }, { captureStderr: true }));
});

afterAll(async () => {
  await stopServe(proc);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('editor accounts and sessions (in order: bootstrap, then accounts)', () => {
  let boot: { cookie: string; csrf: string };

  it('before any account, BROADSHEET_EDITOR_PASSWORD signs in as a bootstrap admin, with warnings', async () => {
    expect(logs()).toContain('no editor accounts yet');
    const s = await signIn('值班編輯', BOOTSTRAP);
    expect(s.status).toBe(303);
    boot = s;
    expect((await get('/', s.cookie)).status).toBe(200);
    expect((await post('/publish', s.cookie, { _csrf: s.csrf })).status).toBe(303);
    expect(logs()).toMatch(
      /"editor":"值班編輯".*signed in with BROADSHEET_EDITOR_PASSWORD \(bootstrap admin\)/,
    );
    const [row] = await sessions();
    expect(row).toMatchObject({ editor: '值班編輯', role: 'admin', bootstrap: true, state: 'live' });
  });

  it('the first account ends the bootstrap: its cookie and the shared password stop working', async () => {
    const short = await editors(['add', 'alice', '--password-stdin'], 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('EDITOR_PASSWORD_WEAK');
    const noPw = await editors(['add', 'alice']);
    expect(noPw.code).toBe(2);
    expect(noPw.stderr).toContain('EDITOR_PASSWORD_MISSING');
    const add = await editors(['add', 'alice', '--password-stdin', '--json'], `${ALICE}\n`);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toEqual({ name: 'alice', role: 'admin', bootstrapSessionsEnded: 1 });
    expect((await editors(['add', 'ALICE', '--password-stdin'], `${ALICE}\n`)).stderr).toContain(
      'EDITOR_EXISTS',
    );

    const replay = await get('/', boot.cookie);
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toMatch(/^\/login/);
    expect((await signIn('值班編輯', BOOTSTRAP)).status).toBe(401);
    expect(logs()).toContain('a sign-in used BROADSHEET_EDITOR_PASSWORD, which no longer signs anyone in');
  });

  it('signs in with an account; logout revokes the session: a copied cookie stops working at once', async () => {
    expect((await signIn('alice', 'wrong password here')).status).toBe(401);
    expect((await signIn('nobody', ALICE)).status).toBe(401);
    const s = await signIn('alice', ALICE);
    expect(s.status).toBe(303);
    const copied = s.cookie;
    expect((await get('/', copied)).status).toBe(200);
    const live = (await sessions()).find((r) => r.id === sidOf(copied))!;
    expect(live).toMatchObject({
      editor: 'alice',
      role: 'admin',
      bootstrap: false,
      state: 'live',
      userAgent: 'sessions-test/1',
    });
    expect(live.ipHash).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(Date.parse(live.expiresAt) - Date.parse(live.createdAt)).toBe(12 * 3600_000);
    expect(Date.parse(live.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(live.createdAt));

    const out = await post('/logout', s.cookie, { _csrf: s.csrf });
    expect(out.status).toBe(303);
    const replay = await get('/', copied);
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toMatch(/^\/login/);
    expect((await approve(copied, s.csrf)).status).toBe(401);
    const ended = (await sessions(true)).find((r) => r.id === sidOf(copied))!;
    expect(ended).toMatchObject({ state: 'revoked', revokedReason: 'signed out' });
    expect((await sessions()).some((r) => r.id === sidOf(copied))).toBe(false);
  });

  it('keeps only a hash of the cookie in the store', async () => {
    const s = await signIn('alice', ALICE);
    const verifier = /bs_session=[^.;]+\.([^;]+)/.exec(s.cookie)![1]!;
    const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM editor_sessions').all() as Record<string, unknown>[];
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) for (const v of Object.values(r)) expect(String(v)).not.toContain(verifier);
      const hash = db
        .prepare('SELECT password_hash FROM editors WHERE name = ?')
        .pluck()
        .get('alice') as string;
      expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      expect(hash).not.toContain(ALICE);
    } finally {
      db.close();
    }
  });

  it('roles: an editor approves but gets 403 on publish; `editors role` applies to the open session at once', async () => {
    expect((await editors(['add', 'bob', '--role', 'editor', '--password-stdin'], BOB)).code).toBe(0);
    const s = await signIn('bob', BOB);
    expect(s.status).toBe(303);
    expect((await approve(s.cookie, s.csrf)).status).toBe(303);
    const queue = await (await get('/queue', s.cookie)).text();
    expect(queue).not.toContain('立即發佈已批准帖文');
    expect((await post('/publish', s.cookie, { _csrf: s.csrf })).status).toBe(403);
    const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
    const published = () =>
      db.prepare("SELECT count(*) FROM publish_queue WHERE state = 'published'").pluck().get() as number;
    try {
      expect(published()).toBe(0);
      expect((await editors(['role', 'bob', 'admin'])).code).toBe(0);
      expect((await post('/publish', s.cookie, { _csrf: s.csrf })).status).toBe(303);
      expect(published()).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    expect((await editors(['role', 'bob', 'editor'])).code).toBe(0);
    // The last admin cannot be demoted or removed while other accounts remain.
    expect((await editors(['role', 'alice', 'editor'])).stderr).toContain('EDITOR_LAST_ADMIN');
    expect((await editors(['remove', 'alice'])).stderr).toContain('EDITOR_LAST_ADMIN');
  });

  it('`editors revoke <id>` and `--editor NAME` end sessions at once', async () => {
    const a = await signIn('bob', BOB);
    const b = await signIn('bob', BOB);
    const c = await signIn('bob', BOB);
    for (const s of [a, b, c]) expect((await get('/', s.cookie)).status).toBe(200);
    const one = await editors(['revoke', sidOf(a.cookie)]);
    expect(one.code, one.stderr).toBe(0);
    expect((await get('/', a.cookie)).status).toBe(303);
    expect((await get('/', b.cookie)).status).toBe(200);
    expect((await editors(['revoke', sidOf(a.cookie)])).stderr).toContain('SESSION_UNKNOWN');
    const all = await editors(['revoke', '--editor', 'bob', '--json']);
    expect(JSON.parse(all.stdout).sessionsEnded).toBeGreaterThanOrEqual(2);
    expect((await get('/', b.cookie)).status).toBe(303);
    expect((await get('/', c.cookie)).status).toBe(303);
    expect((await editors(['revoke'])).code).toBe(2);
    expect((await editors(['revoke', sidOf(b.cookie), '--all'])).code).toBe(2);
    // --all signs everyone out.
    const admin = await signIn('alice', ALICE);
    expect((await get('/', admin.cookie)).status).toBe(200);
    const every = await editors(['revoke', '--all', '--json']);
    expect(JSON.parse(every.stdout).sessionsEnded).toBeGreaterThanOrEqual(1);
    expect((await get('/', admin.cookie)).status).toBe(303);
    expect(await sessions()).toEqual([]);
  });

  it('`editors passwd` ends the editor’s sessions; the new password works, the old does not', async () => {
    const s = await signIn('bob', BOB);
    const next = 'bob new passphrase 七八九';
    const r = await editors(['passwd', 'bob', '--password-stdin', '--json'], next);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'bob', sessionsEnded: 1 });
    expect((await get('/', s.cookie)).status).toBe(303);
    expect((await signIn('bob', BOB)).status).toBe(401);
    expect((await signIn('bob', next)).status).toBe(303);
  });

  it('`editors remove` deletes the account and ends its sessions', async () => {
    const s = await signIn('bob', 'bob new passphrase 七八九');
    expect((await get('/', s.cookie)).status).toBe(200);
    const r = await editors(['remove', 'bob']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed bob; \d+ session\(s\) ended/);
    expect((await get('/', s.cookie)).status).toBe(303);
    expect(
      JSON.parse((await editors(['list', '--json'])).stdout).map((e: { name: string }) => e.name),
    ).toEqual(['alice']);
    expect((await editors(['remove', 'bob'])).stderr).toContain('EDITOR_UNKNOWN');
  });

  it('the sign-in rate limit still holds for accounts: 429 even with the right password', async () => {
    const ip = { 'x-forwarded-for': '10.9.9.9' };
    for (let i = 0; i < 3; i++) expect((await signIn('alice', 'not the password', ip)).status).toBe(401);
    const limited = await signIn('alice', ALICE, ip);
    expect(limited.status).toBe(429);
    expect((await signIn('alice', ALICE)).status).toBe(303);
  });
});

describe('Origin / Sec-Fetch-Site on POSTs', () => {
  it('refuses cross-site POSTs even with a valid cookie and CSRF token; same-origin and non-browser clients pass', async () => {
    const s = await signIn('alice', ALICE);
    const evil = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
    expect((await approve(s.cookie, s.csrf, 'threads', evil)).status).toBe(403);
    expect((await approve(s.cookie, s.csrf, 'threads', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await approve(s.cookie, s.csrf, 'threads', { origin: 'null' })).status).toBe(403);
    expect((await approve(s.cookie, s.csrf, 'threads', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await approve(s.cookie, s.csrf, 'threads', { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await post('/publish', s.cookie, { _csrf: s.csrf }, evil)).status).toBe(403);
    const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
    try {
      expect(
        db
          .prepare(
            "SELECT count(*) FROM review_events WHERE item_id = 'china-ai-2025-1' AND platform = 'threads'",
          )
          .pluck()
          .get(),
      ).toBe(0);
    } finally {
      db.close();
    }
    // The sign-in form too.
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': FORM, ...evil },
      body: 'name=x',
    });
    expect(login.status).toBe(403);
    // A browser on our own page, and a script without either header.
    const own = { origin: base, 'sec-fetch-site': 'same-origin' };
    expect((await approve(s.cookie, s.csrf, 'threads', own)).status).toBe(303);
    expect((await approve(s.cookie, s.csrf, 'instagram')).status).toBe(303);
    expect(logs()).toContain('cross-site POST refused');
  });

  it('RFC 8058 one-click unsubscribe from a mail provider (no Origin, no cookies) still works, also cross-site', async () => {
    for (const email of ['one@example.com', 'two@example.com'])
      expect((await cli(['subscribers', 'add', email, ...args()])).code).toBe(0);
    // The CLI added them in order: ids 1 and 2 in this fresh store.
    const ids: Record<string, number> = { 'one@example.com': 1, 'two@example.com': 2 };
    const url = (email: string) =>
      `${base}/u/${unsubscribeToken([Buffer.from(SECRET)], 'daily', ids[email]!)}`;
    const bare = await fetch(url('one@example.com'), {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(bare.status).toBe(200);
    // A browser-based mail client posting from its own origin: the token is the capability.
    const webmail = await fetch(url('two@example.com'), {
      method: 'POST',
      headers: { 'content-type': FORM, origin: 'https://mail.example', 'sec-fetch-site': 'cross-site' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(webmail.status).toBe(200);
    const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
    try {
      expect(db.prepare('SELECT email, status FROM subscribers ORDER BY email').all()).toEqual([
        { email: 'one@example.com', status: 'unsubscribed' },
        { email: 'two@example.com', status: 'unsubscribed' },
      ]);
    } finally {
      db.close();
    }
  });
});
