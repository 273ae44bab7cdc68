import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, SubscriberRepo } from '../../src/store/index.ts';
import { EDITION, stageDigest, tempDir } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink, tally } from '../fixtures/delivery/sink.ts';
import { BIN, ROOT } from '../helpers/cli.ts';
import { closedPort, startRawSmtp } from '../helpers/smtp-raw.ts';

// SMTP faults through the real CLI, as ops meet them from cron: each run ends
// with its catalog code on stderr, the summary on stdout and the documented
// exit code — never 13 (an unsettled promise), never a hang.

const READERS = ['a@example.com', 'b@example.com', 'c@example.com'];

/** The CLI, spawned asynchronously: the servers it talks to live in this process. */
function cli(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, DEBUG: '', LOG_LEVEL: 'warn', BROADSHEET_SECRET: 'cli-faults', ...env },
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

function newsroom(readers = READERS) {
  const dir = tempDir('bs-cli-faults-');
  const store = join(dir, 'data', 'broadsheet.db');
  const out = join(dir, 'out');
  const config = join(dir, 'broadsheet.config.yaml');
  writeFileSync(
    config,
    [
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
  if (readers.length) {
    const db = openStore(store);
    new SubscriberRepo(db).upsertMany(
      readers.map((email) => ({ email })),
      'test',
    );
    db.close();
  }
  const args = ['--config', config, '--store', store, '--out', out, '--content', join(dir, 'content')];
  const send = (smtpUrl: string, ...more: string[]) =>
    cli([...args, 'send', '--edition', EDITION, '--transport', 'smtp', ...more], { SMTP_URL: smtpUrl });
  return { store, send };
}

let good: Sink;
beforeAll(async () => {
  good = await startSink();
});
afterAll(() => good.close());

describe('broadsheet send --transport smtp against a broken server', () => {
  it('nothing listening: SMTP_UNREACHABLE, exit 1, summary printed; the next run delivers each reader once', async () => {
    const n = newsroom();
    const r = await n.send(`smtp://127.0.0.1:${await closedPort()}`);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error SMTP_UNREACHABLE: .*connection refused/m);
    expect(r.stderr).toMatch(/^hint: .*SMTP_URL/m);
    expect(r.stdout).toMatch(/left 3 for the next run \(stopped: SMTP_UNREACHABLE\)/);
    good.received.length = 0;
    const again = await n.send(good.url);
    expect(again.code, again.stderr).toBe(0);
    const { byRecipient } = tally(good.received);
    expect(READERS.map((x) => byRecipient.get(x))).toEqual([1, 1, 1]);
  });

  it('a port that never greets: SMTP_TIMEOUT naming delivery.greetingTimeoutMs, exit 1', async () => {
    const raw = await startRawSmtp({ kind: 'silent' });
    try {
      const r = await newsroom().send(`smtp://127.0.0.1:${raw.port}`);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error SMTP_TIMEOUT: 127\.0\.0\.1:\d+: no greeting within 1000 ms/m);
      expect(r.stderr).toContain('delivery.greetingTimeoutMs');
    } finally {
      await raw.close();
    }
  });

  it('a wrong password: SMTP_AUTH, exit 2, stopped before any message; --json still gives the summary', async () => {
    const authSink = await startSink(() => undefined, { auth: { user: 'newsroom', pass: 'right' } });
    try {
      const r = await newsroom().send(`smtp://newsroom:wrong@127.0.0.1:${authSink.port}`, '--json');
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error SMTP_AUTH: /m);
      const summary = JSON.parse(r.stdout) as { sent: number; left: number; stopped: { code: string } };
      expect(summary).toMatchObject({ sent: 0, left: 3, stopped: { code: 'SMTP_AUTH' } });
      expect(authSink.received).toHaveLength(0);
    } finally {
      await authSink.close();
    }
  });
});

describe('broadsheet send with no subscribers in the store', () => {
  it('says so and how to add them, exits 2, and creates no store', async () => {
    const n = newsroom([]);
    const r = await n.send(good.url);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error SEND_NO_SUBSCRIBERS: /m);
    expect(r.stderr).toContain('broadsheet subscribers import content/subscribers.csv');
    expect(r.stderr).toContain('broadsheet subscribers add');
    expect(existsSync(n.store)).toBe(false);
  });
});
