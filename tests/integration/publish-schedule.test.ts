// Scheduling social posts from the review app, and the publish job: an admin
// approves, sets times (now, a future time, the next free slot), cancels; the
// real `broadsheet run publish` (a child process, the daemon's job runner)
// posts what is due to loopback X and Bluesky fakes through the real client
// libraries, once; the gallery then links the post. Also `publish --check`.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.ts';
import { createReviewApp } from '../../src/review/app.ts';
import { hashPassword } from '../../src/review/password.ts';
import { type DB, openStore } from '../../src/store/db.ts';
import { EditorRepo } from '../../src/store/editors.ts';
import { ReviewRepo } from '../../src/store/review.ts';
import { localParts } from '../../src/util/zoned.ts';
import { fakeBluesky } from '../fixtures/platforms/bluesky.ts';
import { fakeX } from '../fixtures/platforms/x.ts';
import { EDITION, ITEMS, PASSWORD, reviewContext, writeEdition } from '../fixtures/review/edition.ts';
import { BIN, ROOT } from '../helpers/cli.ts';
import { cookiesOf, csrfIn } from '../helpers/session.ts';

const BASE = 'http://127.0.0.1';
const STORY = ITEMS[0]!;
const STATS = ITEMS[2]!;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (v: Record<string, string>) => new URLSearchParams(v).toString();

describe('scheduling social posts and the publish job', () => {
  const bsky = fakeBluesky();
  const xapi = fakeX();
  let dir: string;
  let ctx: Context;
  let db: DB;
  let repo: ReviewRepo;
  let app: ReturnType<typeof createReviewApp>;
  let env: Record<string, string>;
  let cookie = '';
  let csrf = '';
  const saved = { ...process.env };

  const cli = (args: string[], extraEnv: Record<string, string> = env) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(
        process.execPath,
        [
          BIN,
          ...args,
          '--config',
          join(dir, 'broadsheet.config.yaml'),
          '--out',
          ctx.paths.out,
          '--store',
          ctx.paths.store,
        ],
        { cwd: ROOT, env: { ...saved, BROADSHEET_SECRET: 'sched-secret', LOG_LEVEL: 'warn', ...extraEnv } },
      );
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => {
        stdout += d;
      });
      p.stderr.on('data', (d) => {
        stderr += d;
      });
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  beforeAll(async () => {
    await Promise.all([bsky.start(), xapi.start()]);
    env = {
      BLUESKY_SERVICE: bsky.url,
      BLUESKY_HANDLE: bsky.handle,
      BLUESKY_APP_PASSWORD: bsky.password,
      X_API_URL: xapi.url,
      X_API_KEY: xapi.consumerKey,
      X_API_SECRET: 'x-consumer-secret-VALUE',
      X_ACCESS_TOKEN: 'x-access-token-VALUE',
      X_ACCESS_SECRET: 'x-access-secret-VALUE',
    };
    // The app offers the platforms whose credentials are in its environment.
    Object.assign(process.env, env);
    dir = mkdtempSync(join(tmpdir(), 'bs-publish-schedule-'));
    const review = { publishers: [], social: { timeoutMs: 2000, times: { x: ['09:00', '21:00'] } } };
    writeFileSync(
      join(dir, 'broadsheet.config.yaml'),
      `publicUrl: http://127.0.0.1/\nreview: ${JSON.stringify(review)}\njobs:\n  - name: publish\n    kind: publish\n`,
    );
    ctx = reviewContext(dir, { review });
    await writeEdition(ctx.paths.out);
    db = openStore(ctx.paths.store);
    repo = new ReviewRepo(db);
    app = createReviewApp(ctx, { db });
    ({ cookie, csrf } = await signIn('陳編輯', PASSWORD));
  });

  const signIn = async (name: string, password: string) => {
    const login = await app.request(`${BASE}/login`);
    const pre = cookiesOf(login);
    const res = await app.request(`${BASE}/login`, {
      method: 'POST',
      headers: { ...FORM, cookie: pre },
      body: form({ _csrf: csrfIn(await login.text()), name, password, next: '/' }),
    });
    const c = [pre, cookiesOf(res)].filter(Boolean).join('; ');
    return {
      cookie: c,
      csrf: csrfIn(await (await app.request(`${BASE}/`, { headers: { cookie: c } })).text()),
    };
  };
  afterAll(async () => {
    for (const k of Object.keys(env)) delete process.env[k];
    db?.close();
    await Promise.all([bsky.stop(), xapi.stop()]);
  });

  const post = (path: string, v: Record<string, string>) =>
    app.request(`${BASE}${path}`, {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: form({ _csrf: csrf, ...v }),
    });
  const rowsOf = (itemId: string) =>
    Object.fromEntries(
      repo
        .queue(EDITION)
        .filter((r) => r.itemId === itemId)
        .map((r) => [r.publisher, r]),
    );
  const gallery = async () => (await app.request(`${BASE}/e/${EDITION}`, { headers: { cookie } })).text();

  it('approving an X caption queues it for X and Bluesky, waiting for a time', async () => {
    const r = await post(`/e/${EDITION}/p/${STORY.id}/x`, {
      action: 'approve',
      caption: STORY.caption,
      format: 'x',
    });
    expect(r.status).toBe(303);
    const rows = rowsOf(STORY.id);
    expect(Object.keys(rows).sort()).toEqual(['bluesky', 'x']);
    expect(rows.x!.dueAt).toBeNull();
    const page = await gallery();
    expect(page).toContain(`action="/schedule/${rows.x!.id}"`);
    expect(page).toContain('未排期');
  });

  it('publishes what is due, once; a future post waits; a cancelled one never goes; the gallery links the post', async () => {
    const rows = rowsOf(STORY.id);
    expect((await post(`/schedule/${rows.x!.id}`, { action: 'now' })).status).toBe(303);
    const tomorrow = localParts(Date.now() + 86_400_000, ctx.config.timezone);
    const at = `${tomorrow.year}-${String(tomorrow.month).padStart(2, '0')}-${String(tomorrow.day).padStart(2, '0')}T10:15`;
    expect((await post(`/schedule/${rows.bluesky!.id}`, { action: 'at', at })).status).toBe(303);
    expect(repo.queueRow(rows.bluesky!.id)!.dueAt).not.toBeNull();

    const run1 = await cli(['run', 'publish', '--json']);
    expect(run1.code, run1.stderr).toBe(0);
    expect(xapi.tweets).toHaveLength(1);
    expect(xapi.tweets[0]!.text).toBe(STORY.caption);
    expect(bsky.posts.size).toBe(0);
    expect(repo.queueRow(rows.x!.id)!.state).toBe('published');
    expect(repo.queueRow(rows.bluesky!.id)!.state).toBe('queued');

    const page = await gallery();
    expect(page).toContain(`href="https://x.com/newsroom/status/${xapi.tweets[0]!.id}"`);
    const queue = await (await app.request(`${BASE}/queue`, { headers: { cookie } })).text();
    expect(queue).toContain(`href="https://x.com/newsroom/status/${xapi.tweets[0]!.id}"`);

    // Too late to change what went out; the future one can still be cancelled.
    expect((await post(`/schedule/${rows.x!.id}`, { action: 'cancel' })).status).toBe(409);
    expect((await post(`/schedule/${rows.bluesky!.id}`, { action: 'cancel' })).status).toBe(303);
    expect(repo.queueRow(rows.bluesky!.id)!.state).toBe('cancelled');
    expect((await post(`/schedule/${rows.bluesky!.id}`, { action: 'now' })).status).toBe(409);

    const run2 = await cli(['run', 'publish', '--json']);
    expect(run2.code, run2.stderr).toBe(0);
    expect(xapi.tweets).toHaveLength(1);
    expect(bsky.posts.size).toBe(0);
  }, 120_000);

  it('"next free slot" takes the platform\'s next posting time no other post holds', async () => {
    await post(`/e/${EDITION}/p/${STATS.id}/x`, { action: 'approve', caption: STATS.caption, format: 'x' });
    await post(`/e/${EDITION}/p/${ITEMS[1]!.id}/x`, {
      action: 'approve',
      caption: ITEMS[1]!.caption,
      format: 'x',
    });
    const a = rowsOf(STATS.id).x!;
    const b = rowsOf(ITEMS[1]!.id).x!;
    expect((await post(`/schedule/${a.id}`, { action: 'slot' })).status).toBe(303);
    expect((await post(`/schedule/${b.id}`, { action: 'slot' })).status).toBe(303);
    const da = repo.queueRow(a.id)!.dueAt!;
    const db2 = repo.queueRow(b.id)!.dueAt!;
    for (const d of [da, db2]) {
      expect(Date.parse(d)).toBeGreaterThan(Date.now());
      const p = localParts(Date.parse(d), ctx.config.timezone);
      expect(['09:00', '21:00']).toContain(
        `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`,
      );
    }
    expect(da).not.toBe(db2);
    expect(Date.parse(db2)).toBeGreaterThan(Date.parse(da));
    // A time in the past is refused.
    expect((await post(`/schedule/${a.id}`, { action: 'at', at: '2020-01-01T09:00' })).status).toBe(422);
  });

  it("publish --check: ready, missing (naming the variables) and failing (the platform's words); no secret printed", async () => {
    const r = await cli(['publish', '--check'], { ...env, BLUESKY_APP_PASSWORD: 'wrong-SECRET-pass' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PUBLISH_CHECK_FAILED');
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('X '))).toMatch(/ready\s+@newsroom/);
    expect(lines.find((l) => l.startsWith('Bluesky'))).toMatch(/failing.*Invalid identifier or password/);
    expect(lines.find((l) => l.startsWith('Mastodon'))).toMatch(/missing.*MASTODON_TOKEN, MASTODON_URL/);
    for (const secret of [
      'wrong-SECRET-pass',
      'x-consumer-secret-VALUE',
      'x-access-token-VALUE',
      'x-access-secret-VALUE',
    ])
      expect(r.stdout + r.stderr).not.toContain(secret);
    const j = await cli(['publish', '--check', '--json']);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toContainEqual(
      expect.objectContaining({ platform: 'bluesky', state: 'ready' }),
    );
  }, 60_000);

  it('an editor (not admin) may cancel a scheduled post but not set its time', async () => {
    const editors = new EditorRepo(db);
    editors.add('主編', 'admin', await hashPassword('admin-password-123'));
    editors.add('小編', 'editor', await hashPassword('editor-password-123'));
    ({ cookie, csrf } = await signIn('小編', 'editor-password-123'));
    const row = rowsOf(STATS.id).x!;
    expect((await post(`/schedule/${row.id}`, { action: 'now' })).status).toBe(403);
    expect((await post(`/schedule/${row.id}`, { action: 'slot' })).status).toBe(403);
    const before = repo.queueRow(row.id)!.dueAt;
    expect((await post(`/schedule/${row.id}`, { action: 'cancel' })).status).toBe(303);
    expect(repo.queueRow(row.id)).toMatchObject({ state: 'cancelled', dueAt: before });
  });
});
