// Body limits and request timeouts of a real `broadsheet serve` (a child
// process): a 50 MB POST — declared with Content-Length, or chunked — is
// refused with 413 on public and signed-in routes without the server holding it
// in memory (its RSS, read from /proc, must not grow by anything near 50 MB);
// a client too slow with its headers or body gets 408; ordinary forms still fit.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDITION, PASSWORD, writeEdition } from '../fixtures/review/edition.ts';
import { workspaceArgs } from '../helpers/cli.ts';
import { startServe, stopServe } from '../helpers/serve.ts';

const MB = 1 << 20;
const CHUNK = Buffer.alloc(MB, 'a');
const FORM = 'application/x-www-form-urlencoded';

let dir: string;
let proc: ChildProcess;
let base: string;
let port: number;

const rssKb = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);

/**
 * POST `mb` MiB (one reused 1 MiB buffer) on a raw socket and resolve with the
 * status line's code. Raw, because a server that refuses a body answers before
 * the upload ends and then closes: node's http client may report the write
 * error (EPIPE) instead of the response it already received; curl and browsers
 * show the response.
 */
function bigPost(
  path: string,
  o: { chunked: boolean; mb?: number; headers?: Record<string, string> },
): Promise<{ status: number; continued: boolean }> {
  const mb = o.mb ?? 50;
  const headers = {
    host: `127.0.0.1:${port}`,
    'content-type': FORM,
    ...(o.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(mb * MB) }),
    ...o.headers,
  };
  const head = `POST ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  const chunk = o.chunked
    ? Buffer.concat([Buffer.from(`${MB.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')])
    : CHUNK;
  return new Promise((resolve, reject) => {
    let got = '';
    let continued = false;
    let stopped = false;
    let sent = 0;
    const sock = connect(port, '127.0.0.1');
    const pump = () => {
      while (!stopped && sent < mb) {
        sent++;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
      if (!stopped && o.chunked) sock.write('0\r\n\r\n');
    };
    const done = () => {
      stopped = true;
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(got);
      if (m) resolve({ status: Number(m[1]), continued });
      else reject(new Error(`no response (got ${JSON.stringify(got.slice(0, 80))})`));
      sock.destroy();
    };
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (got.startsWith('HTTP/1.1 100 ')) {
        continued = true;
        got = got.replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, '');
        pump();
      }
      // A final status line is all this needs: stop uploading, hang up.
      if (/^HTTP\/1\.1 [2-5]\d\d /.test(got)) done();
    });
    sock.on('error', () => {
      stopped = true;
    });
    sock.on('close', () => {
      if (!stopped || !/^HTTP/.test(got)) done();
    });
    sock.write(head);
    if (!o.headers?.expect) pump();
  });
}

/** Raw bytes on a socket; resolves with everything the server sent until it closed. */
function rawExchange(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(bytes));
    let got = '';
    sock.on('data', (d) => {
      got += d.toString('latin1');
    });
    sock.on('close', () => resolve(got));
    sock.on('error', (e) => (got ? resolve(got) : reject(e)));
  });
}

async function signIn(name: string): Promise<{ cookie: string; csrf: string }> {
  const page = await fetch(`${base}/login`);
  const pre = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, cookie: pre },
    body: new URLSearchParams({ _csrf: loginCsrf, name, password: PASSWORD }),
  });
  expect(res.status).toBe(303);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const home = await (await fetch(`${base}/`, { headers: { cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(home)![1]! };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bs-review-limits-'));
  await writeEdition(join(dir, 'out'));
  // Short timeouts so the slow-client cases end quickly; the body limit is the default.
  writeFileSync(
    join(dir, 'broadsheet.config.yaml'),
    'review:\n  limits:\n    requestTimeoutMs: 1500\n    headersTimeoutMs: 800\n',
  );
  ({ base, proc } = await startServe(
    [...workspaceArgs(dir)],
    {
      BROADSHEET_SECRET: 'limits-secret',
      BROADSHEET_EDITOR_PASSWORD: PASSWORD,
      BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
    },
    { captureStderr: true },
  ));
  port = Number(new URL(base).port);
});

afterAll(async () => {
  await stopServe(proc);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('body limit (review.limits.bodyBytes, 64 KiB)', () => {
  it('refuses 50 MB with 413 on public and signed-in routes, Content-Length or chunked, without holding it', async () => {
    const { cookie } = await signIn('量度員');
    // Warm up: the routes, their modules and a first 413 are loaded before the baseline.
    expect(
      (
        await bigPost('/login', { chunked: true, mb: 1 }).catch((e) => {
          throw new Error(`warmup: ${e.message}`);
        })
      ).status,
    ).toBe(413);
    const before = rssKb(proc.pid!);
    let peak = before;
    const cases: [string, boolean, Record<string, string>][] = [
      ['/login', false, {}],
      ['/login', true, {}],
      ['/u/not-even-a-token', false, {}],
      ['/u/not-even-a-token', true, {}],
      [`/e/${EDITION}/p/china-ai-2025-1/x`, false, { cookie }],
      [`/e/${EDITION}/p/china-ai-2025-1/x`, true, { cookie }],
      ['/publish', true, { cookie }],
    ];
    for (const [path, chunked, headers] of cases) {
      const r = await bigPost(path, { chunked, headers }).catch((e) => {
        throw new Error(`${path} chunked=${chunked}: ${e.message}`);
      });
      expect(r.status, `${path} chunked=${chunked}`).toBe(413);
      peak = Math.max(peak, rssKb(proc.pid!));
    }
    // A memory bound, not a speed limit: one body held in memory would add ~51,200 kB.
    expect(peak - before).toBeLessThan(16 * 1024);
    // And the server is still there.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  }, 120_000);

  it('answers Expect: 100-continue with 413 before the client uploads anything', async () => {
    const r = await bigPost('/login', { chunked: false, headers: { expect: '100-continue' } });
    expect(r).toEqual({ status: 413, continued: false });
  }, 60_000);

  it('still takes ordinary forms: a 2,000-character CJK caption (~18 KB encoded) is saved', async () => {
    const { cookie, csrf } = await signIn('長文編輯');
    const caption = '數'.repeat(2000);
    const body = new URLSearchParams({ _csrf: csrf, action: 'save', caption }).toString();
    expect(body.length).toBeGreaterThan(17_000);
    const r = await fetch(`${base}/e/${EDITION}/p/china-ai-2025-1/instagram`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': FORM, cookie },
      body,
    });
    expect(r.status).toBe(303);
    const page = await (await fetch(`${base}/e/${EDITION}`, { headers: { cookie } })).text();
    expect(page).toContain(caption);
  });
});

describe('request timeout (review.limits.requestTimeoutMs / headersTimeoutMs)', () => {
  it('a body that never arrives ends with 408 and a closed connection', async () => {
    const got = await rawExchange(
      `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${FORM}\r\nContent-Length: 1000\r\n\r\nname=slow`,
    );
    expect(got).toMatch(/^HTTP\/1\.1 408 /);
  }, 30_000);

  it('headers that never end get 408 too', async () => {
    const got = await rawExchange(`POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
    expect(got).toMatch(/^HTTP\/1\.1 408 /);
  }, 30_000);
});

describe('keep-alive (review.limits.keepAliveTimeoutMs)', () => {
  it('an idle connection outlives Node’s 5 s default, so a balancer or client reusing it is answered', async () => {
    const { Agent, get } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const hit = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = get(`${base}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    expect(await hit()).toEqual({ status: 200, reused: false });
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await hit()).toEqual({ status: 200, reused: true });
    agent.destroy();
  }, 30_000);
});
