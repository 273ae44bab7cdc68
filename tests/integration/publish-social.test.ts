// Social publishers against loopback fakes of Bluesky, Mastodon and X that
// implement each API's documented shapes, driven through the real client
// libraries (@atproto/api, masto, twitter-api-v2) by the real queue runner on a
// real SQLite store: what each platform receives, scheduling, rate limits,
// a timeout after the platform accepted the post, rejections, expired tokens.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postKey } from '../../src/review/editions.ts';
import { runPublishQueue } from '../../src/review/publish.ts';
import { checkSocial, publishersFor } from '../../src/review/social.ts';
import { type DB, openStore } from '../../src/store/db.ts';
import { ReviewRepo } from '../../src/store/review.ts';
import { fakeBluesky } from '../fixtures/platforms/bluesky.ts';
import { fakeMastodon } from '../fixtures/platforms/mastodon.ts';
import { fakeX } from '../fixtures/platforms/x.ts';
import { EDITION, ITEMS, reviewContext, writeEdition } from '../fixtures/review/edition.ts';

const STORY = ITEMS[0]!;
const STATS = ITEMS[2]!;

describe('social publishers against loopback platforms', () => {
  const bsky = fakeBluesky();
  const masto = fakeMastodon();
  const xapi = fakeX();
  let dir: string;
  let db: DB;
  let repo: ReviewRepo;
  let env: NodeJS.ProcessEnv;
  const ctx = () =>
    reviewContext(dir, {
      // Long enough that a post to a loopback fake that answers is never timed out on a loaded
      // CI machine; the accept-then-hang case waits it out once per platform.
      review: { publishers: ['folder'], webhook: { backoffMs: 10 }, social: { timeoutMs: 2_000 } },
    });
  const run = () => runPublishQueue(ctx(), { db, env });

  beforeAll(async () => {
    await Promise.all([bsky.start(), masto.start(), xapi.start()]);
    env = {
      BLUESKY_SERVICE: bsky.url,
      BLUESKY_HANDLE: bsky.handle,
      BLUESKY_APP_PASSWORD: bsky.password,
      MASTODON_URL: masto.url,
      MASTODON_TOKEN: masto.token,
      X_API_URL: xapi.url,
      X_API_KEY: xapi.consumerKey,
      X_API_SECRET: 'x-consumer-secret',
      X_ACCESS_TOKEN: 'x-access-token',
      X_ACCESS_SECRET: 'x-access-secret',
    };
  });
  afterAll(async () => {
    await Promise.all([bsky.stop(), masto.stop(), xapi.stop()]);
  });
  beforeEach(async () => {
    db?.close();
    dir = mkdtempSync(join(tmpdir(), 'bs-publish-social-'));
    await writeEdition(join(dir, 'out'));
    db = openStore(join(dir, 'db.sqlite'));
    repo = new ReviewRepo(db);
    bsky.posts.clear();
    masto.clear();
    xapi.tweets.length = 0;
    bsky.calls.length = masto.calls.length = xapi.calls.length = 0;
    bsky.expire(false);
    xapi.revoke(false);
  });

  /** Approve an item's caption on `platform` for `publishers`; the queue rows by publisher. */
  const approve = (item: (typeof ITEMS)[number], platform: string, format: string, publishers: string[]) => {
    const k = { edition: EDITION, itemId: item.id, platform };
    repo.approve(k, {
      editor: '陳編輯',
      format,
      caption: item.caption,
      edited: null,
      key: postKey({ ...k, format, caption: item.caption, cardSha256: `${item.id}-${format}-sha` }),
      publishers,
    });
    return Object.fromEntries(
      repo
        .queue(EDITION)
        .filter((r) => r.itemId === item.id && r.platform === platform)
        .map((r) => [r.publisher, r]),
    );
  };
  const past = () => new Date(Date.now() - 60_000).toISOString();

  it('offers a platform only when all its variables are set, for the caption platform it posts', () => {
    expect(publishersFor(ctx(), 'x', env)).toEqual(['folder', 'bluesky', 'x']);
    expect(publishersFor(ctx(), 'threads', env)).toEqual(['folder', 'mastodon']);
    const { MASTODON_TOKEN: _t, X_ACCESS_SECRET: _s, ...partial } = env;
    expect(publishersFor(ctx(), 'x', partial)).toEqual(['folder', 'bluesky']);
    expect(publishersFor(ctx(), 'threads', partial)).toEqual(['folder']);
  });

  it('posts to Bluesky: blob, alt text, aspect ratio, link and hashtag facets, the post link recorded; once', async () => {
    const rows = approve(STORY, 'x', 'x', ['bluesky']);
    repo.schedule(rows.bluesky!.id, past());
    const s = await run();
    expect(s, JSON.stringify(s.rows)).toMatchObject({ published: 1, failed: 0, deferred: 0 });
    const [p] = [...bsky.posts.values()];
    expect(bsky.posts.size).toBe(1);
    expect(p!.record.text).toBe(STORY.caption);
    expect(p!.record.embed.images[0]!.alt).toBe(STORY.title);
    expect(p!.record.embed.images[0]!.aspectRatio).toEqual({ width: 1600, height: 900 });
    expect(p!.record.embed.images[0]!.image.mimeType).toBe('image/png');
    const features = p!.record.facets!.flatMap((f) => f.features);
    expect(features).toContainEqual({
      $type: 'app.bsky.richtext.facet#link',
      uri: 'https://news.example.com/2025/12/10/china-ai-patents-lead',
    });
    expect(features).toContainEqual({ $type: 'app.bsky.richtext.facet#tag', tag: '人工智能' });
    expect(features).toContainEqual({ $type: 'app.bsky.richtext.facet#tag', tag: '專利' });
    const row = repo.queueRow(rows.bluesky!.id)!;
    expect(row.state).toBe('published');
    expect(row.postUrl).toBe(`https://bsky.app/profile/newsroom.test/post/${p!.rkey}`);
    expect(row.postId).toBe(`at://${bsky.did}/app.bsky.feed.post/${p!.rkey}`);
    expect((await run()).published).toBe(0);
    expect(bsky.posts.size).toBe(1);
  });

  it('posts to Mastodon: media with description, visibility, language, Idempotency-Key = post key', async () => {
    const rows = approve(STATS, 'threads', 'portrait', ['mastodon']);
    repo.schedule(rows.mastodon!.id, past());
    {
      const r = await run();
      expect(r.published, JSON.stringify(r.rows)).toBe(1);
    }
    expect(masto.statuses).toHaveLength(1);
    const st = masto.statuses[0]!;
    expect(st).toMatchObject({
      status: STATS.caption,
      visibility: 'public',
      language: 'zh',
      idempotencyKey: rows.mastodon!.key,
    });
    // A 數讀 card's alt text: its headline and its figures in words.
    expect(masto.media.get(st.mediaIds[0]!)).toMatchObject({
      description: '數讀中國AI發展｜用戶規模大：用戶規模：5.15億人（2025年6月）',
      mime: 'image/png',
    });
    expect(repo.queueRow(rows.mastodon!.id)!.postUrl).toBe(`${masto.url}/@newsroom/${st.id}`);
    // The upload came back 202 (processing): the attachment was polled until it had a url.
    expect(masto.calledTimes(/^\/api\/v1\/media\/\d+$/, 'GET')).toBeGreaterThanOrEqual(1);
  });

  it('posts to X: chunked media upload, alt text, the tweet with its media; the link recorded', async () => {
    const rows = approve(STORY, 'x', 'x', ['x']);
    repo.schedule(rows.x!.id, past());
    {
      const r = await run();
      expect(r.published, JSON.stringify(r.rows)).toBe(1);
    }
    expect(xapi.tweets).toHaveLength(1);
    const t = xapi.tweets[0]!;
    expect(t.text).toBe(STORY.caption);
    const m = xapi.media.get(t.mediaIds[0]!)!;
    expect(m).toMatchObject({ finalized: true, alt: STORY.title, type: 'image/png' });
    expect(m.bytes).toBe(m.total);
    expect(repo.queueRow(rows.x!.id)!.postUrl).toBe(`https://x.com/newsroom/status/${t.id}`);
  });

  it('publishes only what is due: an unscheduled or future social post waits; folder goes at once', async () => {
    const rows = approve(STORY, 'x', 'x', ['folder', 'bluesky', 'x']);
    repo.schedule(rows.x!.id, new Date(Date.now() + 3600_000).toISOString());
    const s = await run();
    expect(s.published).toBe(1);
    expect(repo.queueRow(rows.folder!.id)!.state).toBe('published');
    expect(repo.queueRow(rows.bluesky!.id)!.state).toBe('queued');
    expect(repo.queueRow(rows.x!.id)!.state).toBe('queued');
    expect(bsky.posts.size + xapi.tweets.length).toBe(0);
    // Cancelled before it went: never sent, even once due.
    expect(repo.cancelRow(rows.x!.id)).toBe(true);
    repo.schedule(rows.bluesky!.id, past());
    {
      const r = await run();
      expect(r.published, JSON.stringify(r.rows)).toBe(1);
    }
    expect(bsky.posts.size).toBe(1);
    expect(xapi.tweets).toHaveLength(0);
    expect(repo.schedule(rows.bluesky!.id, past())).toBe(false);
  });

  it('waits out a 429 for its reset header and posts once', async () => {
    const rows = approve(STORY, 'x', 'x', ['bluesky', 'x']);
    for (const r of Object.values(rows)) repo.schedule(r.id, past());
    bsky.fault('post', { kind: 'rate-limit', seconds: 1 });
    xapi.fault('post', { kind: 'rate-limit', seconds: 1 });
    const s = await run();
    expect(s, JSON.stringify(s.rows)).toMatchObject({ published: 2, failed: 0, deferred: 0 });
    expect(bsky.posts.size).toBe(1);
    expect(xapi.tweets).toHaveLength(1);
    expect(bsky.calledTimes('/xrpc/com.atproto.repo.createRecord')).toBe(2);
    expect(xapi.calledTimes('/2/tweets')).toBe(2);
  });

  it('a rate limit resetting past review.social.maxWaitMs defers the post to the next run', async () => {
    const rows = approve(STORY, 'x', 'x', ['x']);
    repo.schedule(rows.x!.id, past());
    xapi.fault('post', { kind: 'rate-limit', seconds: 900 });
    const s = await run();
    expect(s, JSON.stringify(s.rows)).toMatchObject({ published: 0, deferred: 1 });
    expect(repo.queueRow(rows.x!.id)).toMatchObject({ state: 'queued' });
    expect(repo.queueRow(rows.x!.id)!.lastError).toMatch(/429/);
    {
      const r = await run();
      expect(r.published, JSON.stringify(r.rows)).toBe(1);
    }
    expect(xapi.tweets).toHaveLength(1);
  });

  it('a timeout after the platform accepted the post does not post it twice', async () => {
    const x1 = approve(STORY, 'x', 'x', ['bluesky', 'x']);
    const m1 = approve(STATS, 'threads', 'portrait', ['mastodon']);
    for (const r of [x1.bluesky!, x1.x!, m1.mastodon!]) repo.schedule(r.id, past());
    bsky.fault('post', { kind: 'accept-then-hang' });
    xapi.fault('post', { kind: 'accept-then-hang' });
    masto.fault('post', { kind: 'accept-then-hang' });
    const s = await run();
    expect(s, JSON.stringify(s.rows)).toMatchObject({ published: 3, failed: 0 });
    expect(bsky.posts.size).toBe(1);
    expect(xapi.tweets).toHaveLength(1);
    expect(masto.statuses).toHaveLength(1);
    // Each found its post rather than trusting luck: X read the timeline, Bluesky the record.
    expect(xapi.calledTimes(/^\/2\/users\/\d+\/tweets$/, 'GET')).toBe(1);
    expect(bsky.calledTimes('/xrpc/com.atproto.repo.getRecord', 'GET')).toBe(1);
    expect(repo.queueRow(x1.x!.id)!.postUrl).toBe(`https://x.com/newsroom/status/${xapi.tweets[0]!.id}`);
    expect(repo.queueRow(m1.mastodon!.id)!.postUrl).toBe(`${masto.url}/@newsroom/${masto.statuses[0]!.id}`);
  });

  it('a rejected post (4xx) is failed with the platform message; nothing is retried', async () => {
    const x1 = approve(STORY, 'x', 'x', ['x']);
    const m1 = approve(STATS, 'threads', 'portrait', ['mastodon']);
    for (const r of [x1.x!, m1.mastodon!]) repo.schedule(r.id, past());
    masto.fault('post', {
      kind: 'reject',
      status: 422,
      body: { error: 'Validation failed: Text character limit of 500 exceeded' },
    });
    xapi.fault('post', {
      kind: 'reject',
      status: 403,
      body: {
        title: 'Forbidden',
        detail: 'You attached an image that is too large.',
        type: 'about:blank',
        status: 403,
      },
    });
    const s = await run();
    expect(s, JSON.stringify(s.rows)).toMatchObject({ published: 0, failed: 2 });
    expect(repo.queueRow(m1.mastodon!.id)).toMatchObject({
      state: 'failed',
      lastError: expect.stringContaining('Text character limit of 500 exceeded'),
    });
    expect(repo.queueRow(x1.x!.id)).toMatchObject({
      state: 'failed',
      lastError: expect.stringContaining('image that is too large'),
    });
    expect(masto.calledTimes('/api/v1/statuses')).toBe(1);
    expect(xapi.calledTimes('/2/tweets')).toBe(1);
  });

  it('an expired or revoked token fails the post with the platform message', async () => {
    const rows = approve(STORY, 'x', 'x', ['bluesky', 'x']);
    for (const r of Object.values(rows)) repo.schedule(r.id, past());
    bsky.expire();
    xapi.revoke();
    const s = await run();
    expect(s, JSON.stringify(s.rows)).toMatchObject({ published: 0, failed: 2 });
    expect(repo.queueRow(rows.bluesky!.id)!.lastError).toMatch(
      /Bluesky: 400 .*(ExpiredToken|expired|revoked)/i,
    );
    expect(repo.queueRow(rows.x!.id)!.lastError).toMatch(/X: 401 Unauthorized/);
    expect(bsky.posts.size + xapi.tweets.length).toBe(0);
  });

  it('publish --check names the scopes a token lacks (Mastodon app scopes, X access level)', async () => {
    const ok = await checkSocial(ctx(), env);
    expect(ok.filter((p) => p.state === 'ready').map((p) => p.platform)).toEqual([
      'bluesky',
      'mastodon',
      'x',
    ]);
    masto.setScopes(['read']);
    xapi.setAccess('read');
    try {
      const r = await checkSocial(ctx(), env);
      expect(r.find((p) => p.platform === 'mastodon')).toMatchObject({
        state: 'failing',
        message: expect.stringMatching(/lacks: write:statuses, write:media/),
      });
      expect(r.find((p) => p.platform === 'x')).toMatchObject({
        state: 'failing',
        message: expect.stringMatching(/lacks: write \(token is read\)/),
      });
    } finally {
      masto.setScopes(['read', 'write:statuses', 'write:media']);
      xapi.setAccess('read-write');
    }
  });
});
