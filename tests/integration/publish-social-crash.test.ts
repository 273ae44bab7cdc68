// `broadsheet publish` SIGKILLed after the platform accepted the post but
// before it answered (the row is left `sending`): the next run looks for the
// post before sending again, finds it, records its link, and posts nothing
// twice — for X (no idempotency key: its timeline is searched) and Bluesky
// (the record key is fixed by the post). Real processes, real store, fakes on 127.0.0.1.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postKey } from '../../src/review/editions.ts';
import { openStore } from '../../src/store/db.ts';
import { ReviewRepo } from '../../src/store/review.ts';
import { fakeBluesky } from '../fixtures/platforms/bluesky.ts';
import { fakeX } from '../fixtures/platforms/x.ts';
import { EDITION, ITEMS, writeEdition } from '../fixtures/review/edition.ts';
import { BIN, ROOT, workspaceArgs } from '../helpers/cli.ts';

describe('social publish across a crash', () => {
  const bsky = fakeBluesky();
  const xapi = fakeX();
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    await Promise.all([bsky.start(), xapi.start()]);
    env = {
      BROADSHEET_SECRET: 'crash-secret',
      LOG_LEVEL: 'warn',
      BLUESKY_SERVICE: bsky.url,
      BLUESKY_HANDLE: bsky.handle,
      BLUESKY_APP_PASSWORD: bsky.password,
      X_API_URL: xapi.url,
      X_API_KEY: xapi.consumerKey,
      X_API_SECRET: 's',
      X_ACCESS_TOKEN: 't',
      X_ACCESS_SECRET: 'u',
    };
    dir = mkdtempSync(join(tmpdir(), 'bs-social-crash-'));
    await writeEdition(join(dir, 'out'));
    // A long call limit: only the kill ends the first run.
    writeFileSync(
      join(dir, 'broadsheet.config.yaml'),
      'review:\n  publishers: []\n  social:\n    timeoutMs: 60000\n',
    );
    const db = openStore(join(dir, 'db.sqlite'));
    const repo = new ReviewRepo(db);
    const it = ITEMS[0]!;
    const k = { edition: EDITION, itemId: it.id, platform: 'x' };
    repo.approve(k, {
      editor: '陳編輯',
      format: 'x',
      caption: it.caption,
      edited: null,
      key: postKey({ ...k, format: 'x', caption: it.caption, cardSha256: `${it.id}-x-sha` }),
      publishers: ['bluesky', 'x'],
    });
    for (const r of repo.queue(EDITION)) repo.schedule(r.id, new Date(Date.now() - 60_000).toISOString());
    db.close();
  });
  afterAll(async () => {
    await Promise.all([bsky.stop(), xapi.stop()]);
  });

  const start = () =>
    spawn(process.execPath, [BIN, 'publish', '--json', ...workspaceArgs(dir)], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
  const finish = (p: ChildProcess) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      let stdout = '';
      p.stdout!.on('data', (d) => {
        stdout += d;
      });
      p.on('close', (code) => resolve({ code, stdout }));
    });
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(ok()).toBe(true);
  };

  it('finds the accepted post after the kill instead of posting it again', async () => {
    bsky.fault('post', { kind: 'accept-then-hang' });
    xapi.fault('post', { kind: 'accept-then-hang' });
    // Run 1: Bluesky accepts and hangs; kill it there.
    const p1 = start();
    const done1 = finish(p1);
    await until(() => bsky.posts.size === 1);
    p1.kill('SIGKILL');
    await done1;
    // Run 2: Bluesky's row is found (getRecord); X accepts and hangs; kill it there.
    const p2 = start();
    const done2 = finish(p2);
    await until(() => xapi.tweets.length === 1);
    p2.kill('SIGKILL');
    await done2;
    // Run 3: X's row is found in its timeline.
    const r3 = await finish(start());
    expect(r3.code).toBe(0);
    expect(JSON.parse(r3.stdout)).toMatchObject({ published: 1, failed: 0 });
    expect(bsky.posts.size).toBe(1);
    expect(xapi.tweets).toHaveLength(1);
    expect(bsky.calledTimes('/xrpc/com.atproto.repo.createRecord')).toBe(1);
    expect(xapi.calledTimes('/2/tweets')).toBe(1);
    const db = openStore(join(dir, 'db.sqlite'));
    const rows = new ReviewRepo(db).queue(EDITION);
    db.close();
    expect(rows.map((r) => [r.publisher, r.state])).toEqual([
      ['bluesky', 'published'],
      ['x', 'published'],
    ]);
    expect(rows.find((r) => r.publisher === 'x')!.postUrl).toBe(
      `https://x.com/newsroom/status/${xapi.tweets[0]!.id}`,
    );
    expect(rows.find((r) => r.publisher === 'bluesky')!.postUrl).toMatch(
      /^https:\/\/bsky\.app\/profile\/newsroom\.test\/post\//,
    );
  }, 120_000);
});
