// Stateless `serve` (issue 17): TWO real `broadsheet serve` processes on one
// real PostgreSQL store, on different ports, as behind a load balancer.
// Sessions, the sign-in rate limit and the publish queue live in the
// database: a session made on A works on B, a sign-out on B ends it on A at
// once, failures on A count on B, and the publish queue run on both replicas
// at once publishes each post exactly once (a loopback webhook receiver that
// counts every request). Readers' routes work there too (tests/integration/readers-routes-pg.test.ts).
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDITION, writeEdition } from '../fixtures/review/edition.ts';
import { BIN, ROOT, workspaceArgs } from '../helpers/cli.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';
import { startServe, stopServe } from '../helpers/serve.ts';
import { cookiesOf as cookieOf, csrfIn } from '../helpers/session.ts';

const pgOk = await needsPostgres();
const FORM = 'application/x-www-form-urlencoded';
const ALICE = 'alice passphrase 一二三';
const env = {
  BROADSHEET_SECRET: 'replicas-secret',
  BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
  LOG_LEVEL: 'info',
};

let db: PgTestDb;
let dir: string;
let hook: Server;
/** Every request the webhook receiver got: its Idempotency-Key. */
const received: string[] = [];
const replicas: { base: string; proc: ChildProcess; logs: () => string }[] = [];
const args = () => workspaceArgs(dir, db.url);

function cli(a: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...a, ...args()],
      { cwd: ROOT, env: { ...process.env, ...env, DEBUG: '' }, encoding: 'utf8', timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

async function signIn(base: string, name: string, password: string, ip: string) {
  const h = { 'x-forwarded-for': ip };
  const page = await fetch(`${base}/login`, { headers: h });
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, cookie: cookieOf(page), ...h },
    body: new URLSearchParams({ _csrf: csrfIn(await page.text()), name, password, next: '/' }),
  });
  return { status: res.status, cookie: cookieOf(res) };
}
const get = (base: string, path: string, cookie = '') =>
  fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie } });
async function csrfOn(base: string, cookie: string) {
  return csrfIn(await (await get(base, '/', cookie)).text());
}
const post = (base: string, path: string, cookie: string, body: Record<string, string>) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, cookie },
    body: new URLSearchParams(body),
  });

describe.skipIf(!pgOk)('two serve replicas on one PostgreSQL store', () => {
  let A: string;
  let B: string;

  beforeAll(async () => {
    db = await freshPgDatabase();
    dir = mkdtempSync(join(tmpdir(), 'bs-web-replicas-'));
    await writeEdition(join(dir, 'out'));
    // The receiver answers slowly, so both replicas' runs overlap.
    hook = createServer((req, res) => {
      received.push(String(req.headers['idempotency-key']));
      req.resume();
      setTimeout(() => res.writeHead(200).end('ok'), 150);
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
    writeFileSync(
      join(dir, 'broadsheet.config.yaml'),
      [
        'review:',
        '  trustProxy: true',
        '  login:',
        '    maxFailures: 3',
        '  publishers: [webhook]',
        '  webhook:',
        `    url: ${url}`,
        '    backoffMs: 1',
        '    includeImage: false',
        '',
      ].join('\n'),
    );
    const added = await cli(['editors', 'add', 'Alice', '--role', 'admin', '--password-stdin'], ALICE);
    expect([added.code, added.stderr]).toEqual([0, expect.any(String)]);
    for (let i = 0; i < 2; i++) replicas.push(await startServe(args(), env, { captureStderr: true }));
    [A, B] = replicas.map((r) => r.base) as [string, string];
  }, 180_000);

  afterAll(async () => {
    for (const r of replicas) await stopServe(r.proc);
    await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('editors CLI works on PostgreSQL: the name is taken in any case', async () => {
    const again = await cli(['editors', 'add', 'alice', '--password-stdin'], 'another passphrase');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('EDITOR_EXISTS');
    const list = JSON.parse((await cli(['editors', 'list', '--json'])).stdout);
    expect(list).toMatchObject([{ name: 'Alice', role: 'admin' }]);
  });

  it('a session made on replica A works on B; signing out on B ends it on A at once', async () => {
    const s = await signIn(A, 'alice', ALICE, '10.1.0.1');
    expect(s.status).toBe(303);
    expect((await get(B, '/', s.cookie)).status).toBe(200);
    expect((await get(A, '/', s.cookie)).status).toBe(200);
    const out = await post(B, '/logout', s.cookie, { _csrf: await csrfOn(B, s.cookie) });
    expect(out.status).toBe(303);
    const a = await get(A, '/', s.cookie);
    expect(a.status).toBe(303);
    expect(a.headers.get('location')).toMatch(/^\/login/);
    expect((await get(B, '/', s.cookie)).status).toBe(303);
  });

  it('`editors revoke` on any host ends a session on both replicas', async () => {
    const s = await signIn(B, 'Alice', ALICE, '10.1.0.2');
    expect((await get(A, '/', s.cookie)).status).toBe(200);
    const sessions = JSON.parse((await cli(['editors', 'sessions', '--json'])).stdout) as { id: string }[];
    expect(sessions).toHaveLength(1);
    expect((await cli(['editors', 'revoke', sessions[0]!.id])).code).toBe(0);
    expect((await get(A, '/', s.cookie)).status).toBe(303);
    expect((await get(B, '/', s.cookie)).status).toBe(303);
  });

  it('sign-in failures from one client count across replicas: the limit trips on B after failures on A', async () => {
    const ip = '10.1.0.66';
    expect((await signIn(A, 'alice', 'wrong 1', ip)).status).toBe(401);
    expect((await signIn(A, 'alice', 'wrong 2', ip)).status).toBe(401);
    expect((await signIn(B, 'alice', 'wrong 3', ip)).status).toBe(401);
    // Three failures (maxFailures) across two replicas: even the right password waits now, on both.
    const b = await signIn(B, 'alice', ALICE, ip);
    expect(b.status).toBe(429);
    expect((await signIn(A, 'alice', ALICE, ip)).status).toBe(429);
    // Another client is not affected.
    expect((await signIn(B, 'alice', ALICE, '10.1.0.67')).status).toBe(303);
    expect(replicas[1]!.logs()).toContain('sign-in rate limit reached');
  });

  it('posts approved on A, the publish queue run on both replicas at once: each published exactly once', async () => {
    const s = await signIn(A, 'alice', ALICE, '10.1.0.3');
    const csrfA = await csrfOn(A, s.cookie);
    const posts = [
      ['china-ai-patents-lead', 'x'],
      ['china-ai-2025-1', 'x'],
      ['china-ai-2025-1', 'threads'],
    ];
    for (const [item, platform] of posts) {
      const r = await post(A, `/e/${EDITION}/p/${item}/${platform}`, s.cookie, {
        _csrf: csrfA,
        action: 'approve',
      });
      expect(r.status).toBe(303);
    }
    const csrfB = await csrfOn(B, s.cookie);
    // The same session on both replicas presses "publish" at the same moment.
    const runs = await Promise.all([
      post(A, '/publish', s.cookie, { _csrf: csrfA }),
      post(B, '/publish', s.cookie, { _csrf: csrfB }),
      post(A, '/publish', s.cookie, { _csrf: csrfA }),
      post(B, '/publish', s.cookie, { _csrf: csrfB }),
    ]);
    for (const r of runs) expect(r.status).toBe(303);
    const published = runs
      .map((r) => decodeURIComponent(r.headers.get('location') ?? ''))
      .map((l) => Number(/已發佈 (\d+)/.exec(l)?.[1] ?? 'NaN'));
    expect(published.reduce((x, y) => x + y, 0)).toBe(3);
    expect(received).toHaveLength(3);
    expect(new Set(received).size).toBe(3);
    // The queue agrees on both replicas; `broadsheet publish` on a third "host" finds nothing left.
    for (const base of [A, B]) {
      const q = await (await get(base, '/queue', s.cookie)).text();
      expect(q.match(/published/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
    }
    const cliRun = await cli(['publish', '--json']);
    expect(cliRun.code).toBe(0);
    expect(JSON.parse(cliRun.stdout)).toMatchObject({ published: 0, failed: 0, deferred: 0 });
    expect(received).toHaveLength(3);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const r = await c.query('SELECT state, count(*)::int AS n FROM publish_queue GROUP BY state');
      expect(r.rows).toEqual([{ state: 'published', n: 3 }]);
    } finally {
      await c.end();
    }
  });

  it("readers' routes work on the shared store (bad tokens are 4xx, never 503 or 500); /healthz checks the store", async () => {
    const s = await signIn(B, 'alice', ALICE, '10.1.0.4');
    const tries: [string, string, number][] = [
      ['GET', '/u/sometoken', 400],
      ['POST', '/u/sometoken', 400],
      ['POST', '/subscribe', 400],
      ['GET', '/c/sometoken', 400],
      ['GET', '/p/sometoken', 400],
      ['GET', '/r/sometoken', 404],
      ['GET', '/o/sometoken', 404],
      ['POST', '/hooks/ses', 404],
    ];
    for (const [method, path, status] of tries) {
      const r = await fetch(`${A}${path}`, {
        method,
        redirect: 'manual',
        headers: { cookie: s.cookie, 'content-type': FORM },
        body: method === 'POST' ? 'x=1' : undefined,
      });
      expect([method, path, r.status]).toEqual([method, path, status]);
    }
    // /report reads the shared store (src/report/): nothing sent yet is a 404 page, not a 503 or 500.
    const rep = await fetch(`${A}/report/${EDITION}`, { redirect: 'manual', headers: { cookie: s.cookie } });
    expect(rep.status).not.toBe(503);
    expect(rep.status).toBeLessThan(500);
    // The archive reads the shared ledger's sends: not sent yet, so not public (404, not 500).
    expect((await fetch(`${A}/archive/${EDITION}`)).status).toBe(404);
    for (const base of [A, B]) {
      const h = await fetch(`${base}/healthz`);
      expect(h.status).toBe(200);
      expect(await h.text()).toBe('ok');
    }
    for (const r of replicas) expect(r.logs()).not.toMatch(/"level":(50|60)/);
  });

  it('each replica writes its heartbeat row (role serve)', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const r = await c.query(
        "SELECT pid FROM process_heartbeats WHERE role = 'serve' AND state = 'running'",
      );
      expect(r.rows.map((x) => Number(x.pid)).sort()).toEqual(replicas.map((x) => x.proc.pid).sort());
    } finally {
      await c.end();
    }
  });
});
