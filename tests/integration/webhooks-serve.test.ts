// A real `broadsheet serve` (child process) with webhook secrets in its
// environment, called over HTTP: a signed Mailgun event and an authenticated
// Postmark record change the store; a forged call is 401, logged with its
// reason and never with the secret; a provider without a secret is 404; a
// malformed secret stops serve at start with its catalog code.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  fixture,
  MAILGUN_KEY,
  mailgunBody,
  makeStore,
  POSTMARK_AUTH,
  type Store,
} from '../fixtures/webhooks/setup.ts';
import { cli } from '../helpers/cli.ts';
import { startServe, stopServe } from '../helpers/serve.ts';

let store: Store;
let proc: ChildProcess | undefined;
let base: string;
let logs: () => string;
let args: string[];
const env = {
  BROADSHEET_SECRET: 'webhooks-serve-secret',
  BROADSHEET_EDITOR_PASSWORD: 'correct horse battery staple',
  MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
  POSTMARK_WEBHOOK_AUTH: POSTMARK_AUTH,
};

beforeAll(async () => {
  store = makeStore();
  writeFileSync(join(store.dir, 'broadsheet.config.yaml'), 'publicUrl: http://127.0.0.1/\n');
  args = [
    '--config',
    join(store.dir, 'broadsheet.config.yaml'),
    '--out',
    join(store.dir, 'out'),
    '--store',
    join(store.dir, 'data', 'broadsheet.db'),
  ];
  ({ base, proc, logs } = await startServe(args, env, { captureStderr: true }));
}, 60_000);

afterAll(async () => {
  await stopServe(proc);
  store?.db.close();
});

describe('webhooks on a real serve', () => {
  it('signed Mailgun and authenticated Postmark calls change the readers; forged ones are 401 and logged without secrets', async () => {
    const json = { 'content-type': 'application/json' };
    const mg = await fetch(`${base}/hooks/mailgun`, {
      method: 'POST',
      headers: json,
      body: mailgunBody(JSON.parse(fixture('mailgun-failed.json'))),
    });
    expect(mg.status).toBe(200);
    const pm = await fetch(`${base}/hooks/postmark`, {
      method: 'POST',
      headers: { ...json, authorization: basic(POSTMARK_AUTH) },
      body: fixture('postmark-spam.json'),
    });
    expect(pm.status).toBe(200);
    expect(store.statuses()).toMatchObject({ hard: 'bounced', angry: 'complained', ok: 'active' });

    const forged = await fetch(`${base}/hooks/mailgun`, {
      method: 'POST',
      headers: json,
      body: mailgunBody(JSON.parse(fixture('mailgun-complained.json')), {
        key: 'key-not-the-right-one-000000',
      }),
    });
    expect(forged.status).toBe(401);
    const noAuth = await fetch(`${base}/hooks/postmark`, {
      method: 'POST',
      headers: json,
      body: fixture('postmark-bounce.json'),
    });
    expect(noAuth.status).toBe(401);
    expect(
      (await fetch(`${base}/hooks/sendgrid`, { method: 'POST', headers: json, body: '[]' })).status,
    ).toBe(404);
    expect(store.events()).toHaveLength(2);

    const refusals = logs()
      .split('\n')
      .filter((l) => l.includes('WEBHOOK_REFUSED'))
      .map((l) => JSON.parse(l) as { provider: string; reason: string });
    expect(refusals.map((r) => [r.provider, r.reason])).toEqual([
      ['mailgun', 'signature mismatch'],
      ['postmark', 'no HTTP Basic credentials'],
    ]);
    expect(logs()).not.toContain(MAILGUN_KEY);
    expect(logs()).not.toContain('s3cret');
  });

  it('a malformed secret stops serve at start: WEBHOOK_SECRET_INVALID, exit 2', () => {
    const r = cli(['serve', '--port', '0', ...args], {
      env: { ...env, POSTMARK_WEBHOOK_AUTH: 'no-colon-here' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('WEBHOOK_SECRET_INVALID');
    expect(r.stderr).toContain('POSTMARK_WEBHOOK_AUTH');
    expect(r.stderr).not.toContain('no-colon-here');
  });
});
