// `broadsheet run <job>` honours the job's time limit: a `send` job whose SMTP
// server accepts the connection and never greets (a raw `net` server on
// 127.0.0.1), with every delivery timeout set far above the job's limit, so
// the JOB limit is what ends it. The edition is staged first with `build`,
// so the time goes to the SMTP connection and nowhere else.
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { read, run } from '../helpers/daemon.ts';
import { cleanEnv, copyWorkingSetup } from '../helpers/workspace.ts';

let silent: Server;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  silent = createServer((s) => {
    sockets.push(s); // accepted, never greeted
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  port = (silent.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
});

describe('broadsheet run <job> past its time limit', () => {
  it('a send stuck on an SMTP server that never greets ends JOB_TIMEOUT, exit 1, recorded failed, lease released, process gone', {
    timeout: 180_000,
  }, async () => {
    const dir = copyWorkingSetup('bs-jobtimeout-');
    writeFileSync(
      join(dir, 'timeout.yaml'),
      `# few cards: the build only stages the digest the send reads
cards:
  formats: [og]
  kinds: [quote]
delivery:
  connectionTimeoutMs: 600000
  greetingTimeoutMs: 600000
  socketTimeoutMs: 600000
  dataTimeoutMs: 600000
  messageTimeoutMs: 600000
jobs:
  - name: send-now
    kind: send
    edition: daily
    timeout: 3s
`,
    );
    const g = ['--config', join(dir, 'timeout.yaml')];
    const env = cleanEnv({ SMTP_URL: `smtp://127.0.0.1:${port}` });
    writeFileSync(
      join(dir, 'readers.csv'),
      'email,name,locale\nreader1@example.com,讀者一,zh-Hant-HK\nreader2@example.com,讀者二,zh-Hant-HK\n',
    );
    expect((await run([...g, 'subscribers', 'import', 'readers.csv'], { cwd: dir, env })).code).toBe(0);
    expect((await run([...g, 'build'], { cwd: dir, env })).code).toBe(0);

    const before = sockets.length;
    const r = await run([...g, 'run', 'send-now', '--json'], { cwd: dir, env });
    // The process ended although its SMTP socket was still open, with the catalog code.
    expect(r.code).toBe(1);
    expect(sockets.length).toBeGreaterThan(before); // the hang was the SMTP greeting
    expect(r.stderr).toMatch(/^error JOB_TIMEOUT: send-now: timeout after \d+\.\d s \(limit 3s\)/m);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'ran', run: { outcome: 'failed' }, error: { code: 'JOB_TIMEOUT' } });

    const db = join(dir, 'data', 'broadsheet.db');
    const row = read(db, (d) =>
      d.prepare("SELECT outcome, error FROM job_runs WHERE job = 'send-now'").get(),
    ) as {
      outcome: string;
      error: string;
    };
    expect(row.outcome).toBe('failed');
    const m = row.error.match(/^JOB_TIMEOUT: send-now: timeout after (\d+\.\d) s \(limit 3s\)/);
    expect(m, row.error).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(3);
    // The send honoured the abort within the wind-down (closing its transport), so the
    // run is not recorded as abandoned, and its send lease is released.
    expect(row.error).not.toMatch(/left behind/);
    expect(
      read(db, (d) => d.prepare("SELECT count(*) AS n FROM leases WHERE name LIKE 'send:%'").get()),
    ).toEqual({ n: 0 });
    expect(
      read(db, (d) => d.prepare("SELECT count(*) AS n FROM leases WHERE name LIKE 'job:%'").get()),
    ).toEqual({
      n: 0,
    });
    // Nobody was marked sent by a run that never got past the greeting.
    expect(read(db, (d) => d.prepare("SELECT count(*) AS n FROM sends WHERE state = 'sent'").get())).toEqual({
      n: 0,
    });
  });
});
