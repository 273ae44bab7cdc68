// Facebook Pages, Instagram, Threads (Graph APIs) and LinkedIn publishers, by
// fetch, against loopback fakes implementing the documented shapes. Instagram
// and Threads fetch the card from its signed public URL, served by the real
// review app on 127.0.0.1 (publicUrl), as JPEG.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.ts';
import { createReviewApp } from '../../src/review/app.ts';
import { postKey } from '../../src/review/editions.ts';
import { runPublishQueue } from '../../src/review/publish.ts';
import { littleText } from '../../src/review/publishers/linkedin.ts';
import { checkSocial } from '../../src/review/social.ts';
import { type DB, openStore } from '../../src/store/db.ts';
import { ReviewRepo } from '../../src/store/review.ts';
import { fakeLinkedIn } from '../fixtures/platforms/linkedin.ts';
import { fakeMeta } from '../fixtures/platforms/meta.ts';
import { fakeThreads } from '../fixtures/platforms/threads.ts';
import { EDITION, ITEMS, reviewContext, writeEdition } from '../fixtures/review/edition.ts';

const STORY = ITEMS[0]!;
const STATS = ITEMS[2]!;

describe('Graph API and LinkedIn publishers against loopback platforms', () => {
  const meta = fakeMeta();
  const threads = fakeThreads();
  const li = fakeLinkedIn();
  const web: Server = createServer();
  let dir: string;
  let ctx: Context;
  let db: DB;
  let repo: ReviewRepo;
  let env: NodeJS.ProcessEnv;
  const run = () => runPublishQueue(ctx, { db, env });
  /** The test's context on `dir`, publicUrl the review app below, each platform request bounded by `timeoutMs`. */
  const contextWith = (timeoutMs: number) =>
    reviewContext(dir, {
      publicUrl: `http://127.0.0.1:${(web.address() as AddressInfo).port}/`,
      review: { publishers: [], webhook: { backoffMs: 10 }, social: { timeoutMs } },
    });

  beforeAll(async () => {
    await Promise.all([meta.start(), threads.start(), li.start()]);
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    env = {
      META_GRAPH_URL: meta.url,
      FACEBOOK_PAGE_ID: meta.pageId,
      FACEBOOK_PAGE_TOKEN: meta.pageToken,
      INSTAGRAM_ACCOUNT_ID: meta.igId,
      INSTAGRAM_TOKEN: meta.igToken,
      THREADS_API_URL: threads.url,
      THREADS_USER_ID: threads.userId,
      THREADS_TOKEN: threads.token,
      LINKEDIN_API_URL: li.url,
      LINKEDIN_ORG_ID: li.orgId,
      LINKEDIN_TOKEN: li.token,
    };
  });
  afterAll(async () => {
    web.closeAllConnections();
    await new Promise<void>((r) => web.close(() => r()));
    await Promise.all([meta.stop(), threads.stop(), li.stop()]);
  });
  beforeEach(async () => {
    db?.close();
    dir = mkdtempSync(join(tmpdir(), 'bs-publish-graph-'));
    ctx = contextWith(3000);
    await writeEdition(ctx.paths.out);
    db = openStore(ctx.paths.store);
    repo = new ReviewRepo(db);
    web.removeAllListeners('request');
    web.on('request', getRequestListener(createReviewApp(ctx, { db }).fetch));
    meta.photos.length = meta.media.length = 0;
    threads.posts.length = 0;
    li.posts.length = 0;
    meta.expire(false);
    // publish --check's permission state, back to "everything granted".
    meta.permissions.delete(meta.pageToken);
    for (const p of meta.permissions.get(meta.igToken)!) p.status = 'granted';
    threads.scopes.add('threads_content_publish');
    li.roles.splice(0, li.roles.length, {
      organization: `urn:li:organization:${li.orgId}`,
      role: 'ADMINISTRATOR',
      state: 'APPROVED',
    });
    li.acl.denied = false;
  });

  const approve = (item: (typeof ITEMS)[number], platform: string, format: string, publisher: string) => {
    const k = { edition: EDITION, itemId: item.id, platform };
    repo.approve(k, {
      editor: '陳編輯',
      format,
      caption: item.caption,
      edited: null,
      key: postKey({ ...k, format, caption: item.caption, cardSha256: `${item.id}-${format}-sha` }),
      publishers: [publisher],
    });
    const row = repo.queue(EDITION).find((r) => r.itemId === item.id && r.publisher === publisher)!;
    repo.schedule(row.id, new Date(Date.now() - 60_000).toISOString());
    return row;
  };
  const ok = async (n: number) => {
    const s = await run();
    expect(s, JSON.stringify(s.rows)).toMatchObject({ published: n, failed: 0, deferred: 0 });
  };

  it('Facebook: one photo post with message and alt text; the post link recorded', async () => {
    const row = approve(STORY, 'facebook', 'og', 'facebook');
    await ok(1);
    expect(meta.photos).toHaveLength(1);
    expect(meta.photos[0]).toMatchObject({ message: STORY.caption, alt: STORY.title });
    expect(meta.photos[0]!.size).toBeGreaterThan(1000);
    expect(repo.queueRow(row.id)!.postUrl).toBe(`https://www.facebook.com/${meta.photos[0]!.postId}`);
  });

  it('Instagram: a container from the card as JPEG at its signed public URL, polled, published; permalink recorded', async () => {
    const row = approve(STATS, 'instagram', 'portrait', 'instagram');
    await ok(1);
    const [c] = [...meta.containers.values()].slice(-1);
    expect(c).toMatchObject({
      caption: STATS.caption,
      alt: '數讀中國AI發展｜用戶規模大：用戶規模：5.15億人（2025年6月）',
    });
    expect(c!.jpegBytes).toBeGreaterThan(1000);
    expect(meta.media).toHaveLength(1);
    expect(repo.queueRow(row.id)!.postUrl).toBe(`https://www.instagram.com/p/${meta.media[0]!.id}/`);
    // The card URL is public only with its signature.
    const base = `http://127.0.0.1:${(web.address() as AddressInfo).port}/media/${EDITION}/${STATS.id}/portrait.jpg`;
    expect((await fetch(base)).status).toBe(404);
    expect((await fetch(`${base}?k=00000000000000000000000000000000`)).status).toBe(404);
  });

  it('Threads: image container, status polled until FINISHED, published; permalink recorded', async () => {
    const row = approve(STORY, 'threads', 'portrait', 'threads');
    await ok(1);
    expect(threads.posts).toEqual([{ id: expect.any(String), text: STORY.caption }]);
    const c = [...threads.containers.values()].find((x) => x.published === threads.posts[0]!.id)!;
    expect(c.alt).toBe(STORY.title);
    expect(c.polls).toBeGreaterThanOrEqual(2);
    expect(repo.queueRow(row.id)!.postUrl).toBe(
      `https://www.threads.net/@broadsheet.news/post/${threads.posts[0]!.id}`,
    );
  });

  it('LinkedIn: image uploaded, organisation post with escaped commentary, hashtags and alt text', async () => {
    const row = approve(STORY, 'linkedin', 'og', 'linkedin');
    await ok(1);
    expect(li.posts).toHaveLength(1);
    const b = li.posts[0]!.body;
    expect(b.author).toBe(`urn:li:organization:${li.orgId}`);
    expect(b.commentary).toBe(littleText(STORY.caption));
    expect(b.commentary).toContain('{hashtag|\\#|人工智能}');
    expect(b.content.media.altText).toBe(STORY.title);
    expect(li.images.get(b.content.media.id)!.bytes).toBeGreaterThan(1000);
    expect(repo.queueRow(row.id)!.postUrl).toBe(`https://www.linkedin.com/feed/update/${li.posts[0]!.id}/`);
  });

  it('throttling (Graph code 4, LinkedIn 429 + Retry-After) is waited out; each posts once', async () => {
    approve(STORY, 'facebook', 'og', 'facebook');
    approve(STORY, 'linkedin', 'og', 'linkedin');
    meta.fault('post', { kind: 'rate-limit', seconds: 0 });
    li.fault('post', { kind: 'rate-limit', seconds: 1 });
    await ok(2);
    expect(meta.photos).toHaveLength(1);
    expect(li.posts).toHaveLength(1);
    expect(li.calledTimes('/rest/posts')).toBeGreaterThanOrEqual(2);
  });

  it('a timeout after the platform accepted the post: found before any retry, never posted twice', async () => {
    const rows = [
      approve(STORY, 'facebook', 'og', 'facebook'),
      approve(STATS, 'instagram', 'portrait', 'instagram'),
      approve(STORY, 'threads', 'portrait', 'threads'),
      approve(STORY, 'linkedin', 'og', 'linkedin'),
    ];
    for (const f of [meta, meta, threads, li]) f.fault('post', { kind: 'accept-then-hang' });
    // Each of the four posts waits out the request timeout once: a shorter one
    // than the other cases' 3 s (the platforms' other requests, loopback, take ms).
    ctx = contextWith(1500);
    await ok(4);
    expect(meta.photos).toHaveLength(1);
    expect(meta.media).toHaveLength(1);
    expect(threads.posts).toHaveLength(1);
    expect(li.posts).toHaveLength(1);
    for (const r of rows) expect(repo.queueRow(r.id)!.postUrl).toMatch(/^https:\/\//);
  }, 60_000);

  // publish --check never fetches publicUrl; a public-looking one gets Instagram and Threads past their
  // "publicUrl must be public" guard so their permission checks run against the fakes.
  const check = async () => {
    const r = await checkSocial(
      reviewContext(dir, { publicUrl: 'https://news.example.com/', review: { social: { timeoutMs: 3000 } } }),
      env,
    );
    return Object.fromEntries(r.map((p) => [p.platform, p])) as Record<string, (typeof r)[number]>;
  };

  it('publish --check: granted permissions → ready; a Page token and LinkedIn say what they cannot verify', async () => {
    const r = await check();
    expect(r.instagram).toMatchObject({ state: 'ready', account: '@broadsheet.news (17841400000000001)' });
    expect(r.threads).toMatchObject({
      state: 'ready',
      account: expect.stringContaining('of 250 posts used'),
    });
    expect(r.facebook).toMatchObject({
      state: 'ready',
      account: expect.stringMatching(
        /^Broadsheet News \(100200300\); scopes not verifiable .*pages_manage_posts/,
      ),
    });
    expect(r.linkedin).toMatchObject({
      state: 'ready',
      account: expect.stringMatching(/^Broadsheet News .*w_organization_social not verifiable/),
    });
    // A user token for the Page, with both permissions granted: verifiable, no caveat.
    meta.permissions.set(meta.pageToken, [
      { permission: 'pages_manage_posts', status: 'granted' },
      { permission: 'pages_read_engagement', status: 'granted' },
    ]);
    expect((await check()).facebook).toMatchObject({
      state: 'ready',
      account: 'Broadsheet News (100200300)',
    });
    for (const p of Object.values(r))
      expect(JSON.stringify(p)).not.toMatch(/fb-page-token|ig-token|threads-token|li-token/);
  });

  it('publish --check: a declined or missing permission → failing, naming it', async () => {
    meta.permissions.get(meta.igToken)!.find((p) => p.permission === 'instagram_content_publish')!.status =
      'declined';
    meta.permissions.set(meta.pageToken, [{ permission: 'pages_read_engagement', status: 'granted' }]);
    threads.scopes.delete('threads_content_publish');
    const r = await check();
    expect(r.instagram).toMatchObject({
      state: 'failing',
      message: expect.stringContaining('lacks: instagram_content_publish (declined)'),
    });
    expect(r.facebook).toMatchObject({
      state: 'failing',
      message: expect.stringContaining('lacks: pages_manage_posts'),
    });
    expect(r.facebook).not.toMatchObject({ message: expect.stringContaining('pages_read_engagement') });
    expect(r.threads).toMatchObject({
      state: 'failing',
      message: expect.stringMatching(/lacks: threads_content_publish .*code 10/),
    });
  });

  it('publish --check: a LinkedIn member who is not an admin of the organisation → failing, naming it', async () => {
    li.roles.splice(0, li.roles.length, {
      organization: `urn:li:organization:${li.orgId}`,
      role: 'ANALYST',
      state: 'APPROVED',
    });
    li.roles.push({ organization: 'urn:li:organization:999', role: 'ADMINISTRATOR', state: 'APPROVED' });
    expect((await check()).linkedin).toMatchObject({
      state: 'failing',
      message: expect.stringContaining(`not an admin of organization ${li.orgId} (roles: ANALYST)`),
    });
    // A token that may not read roles: not failed on that alone, but the line says the role is unknown.
    li.acl.denied = true;
    expect((await check()).linkedin).toMatchObject({
      state: 'ready',
      account: expect.stringMatching(/organization role not verifiable \(403 Not enough permissions/),
    });
  });

  it('an expired token (Graph code 190) fails the post with the platform message', async () => {
    const row = approve(STORY, 'facebook', 'og', 'facebook');
    meta.expire();
    const s = await run();
    expect(s).toMatchObject({ published: 0, failed: 1 });
    expect(repo.queueRow(row.id)!.lastError).toMatch(/Facebook: 400 .*Session has expired.*code 190/);
  });
});
