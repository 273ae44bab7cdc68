// Conformance of the review decisions and the publish queue on both stores
// (issue 17): the same tests against SQLite and a real PostgreSQL. On
// PostgreSQL, two pools stand for two runners (serve replicas) claiming from
// one queue at once: every row is claimed exactly once.
import { afterEach, expect, it } from 'vitest';
import { type Backend, closeBackend, openBackend } from '../../src/store/backend.ts';
import { PgReview } from '../../src/store/pg/review.ts';
import { type PostKey, PostLockedError, ReviewRepo, type ReviewStore } from '../../src/store/review.ts';
import { describeStores, STORE_CONFIG, type StoreUnderTest } from '../helpers/stores.ts';

let n = 0;
const repoOf = (b: Backend, claimTtlMs = 60_000): ReviewStore =>
  b.kind === 'sqlite' ? new ReviewRepo(b.db) : new PgReview(b.pool, { runner: `runner-${++n}`, claimTtlMs });

const extra: Backend[] = [];
afterEach(async () => {
  for (const b of extra.splice(0)) await closeBackend(b).catch(() => {});
});
async function twin(s: StoreUnderTest, claimTtlMs?: number): Promise<ReviewStore> {
  const b = await openBackend(s.target(), STORE_CONFIG);
  extra.push(b);
  return repoOf(b, claimTtlMs);
}

const post = (itemId: string, platform = 'x'): PostKey => ({ edition: 'daily-2025-12-10', itemId, platform });
const approval = (key: string, publishers = ['folder', 'webhook']) => ({
  editor: 'alice',
  format: 'x',
  caption: '數讀中國AI發展',
  edited: null,
  key,
  publishers,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeStores('review decisions', (s) => {
  it('approve queues one row per publisher, once; the decision and its history are kept', async () => {
    const r = repoOf(await s.open());
    const k = post('story-1');
    await r.approve(k, approval('key-1'));
    await r.approve(k, approval('key-1'));
    const q = await r.queue(k.edition);
    expect(q.map((x) => [x.publisher, x.state, x.key])).toEqual([
      ['folder', 'queued', 'key-1'],
      ['webhook', 'queued', 'key-1'],
    ]);
    expect(q[0]).toMatchObject({ itemId: 'story-1', platform: 'x', caption: '數讀中國AI發展', attempts: 0 });
    expect(await r.decision(k)).toMatchObject({
      status: 'approved',
      format: 'x',
      caption: null,
      editor: 'alice',
    });
    expect((await r.events(k)).map((e) => e.action)).toEqual(['approve', 'approve']);
    expect(await r.queueEditions()).toEqual(['daily-2025-12-10']);
    expect((await r.queueCounts()).queued).toBe(2);
  });

  it('a new caption cancels the open rows; reject cancels; editionEvents in order', async () => {
    const r = repoOf(await s.open());
    const k = post('story-2');
    await r.approve(k, approval('key-a'));
    await r.editCaption(k, { editor: 'bob', edited: '新文案' });
    expect(await r.decision(k)).toMatchObject({ status: 'pending', caption: '新文案' });
    expect(await r.queue(k.edition)).toEqual([]);
    await r.approve(k, approval('key-b', ['folder']));
    await r.decide(k, 'rejected', { editor: 'bob' });
    expect((await r.decision(k))!.status).toBe('rejected');
    expect((await r.queueCounts()).cancelled).toBe(3);
    expect((await r.editionEvents(k.edition)).map((e) => e.action)).toEqual([
      'approve',
      'caption',
      'approve',
      'reject',
    ]);
  });

  it('once a row is sending, changes to the post are refused; the same approval is allowed', async () => {
    const r = repoOf(await s.open());
    const k = post('story-3');
    await r.approve(k, approval('key-c', ['webhook']));
    const row = await r.claimNext(['webhook']);
    expect(row).toMatchObject({ state: 'sending', attempts: 1, key: 'key-c' });
    await expect(
      Promise.resolve().then(() => r.decide(k, 'rejected', { editor: 'x' })),
    ).rejects.toBeInstanceOf(PostLockedError);
    await expect(
      Promise.resolve().then(() => r.editCaption(k, { editor: 'x', edited: 'y' })),
    ).rejects.toBeInstanceOf(PostLockedError);
    await expect(Promise.resolve().then(() => r.approve(k, approval('other-key')))).rejects.toBeInstanceOf(
      PostLockedError,
    );
    await r.approve(k, approval('key-c', ['webhook']));
    await r.markPublished(row!.id, 'ok', { id: 'p1', url: 'https://example.com/p1' });
    expect(await r.queueRow(row!.id)).toMatchObject({ state: 'published', postId: 'p1', response: 'ok' });
    expect((await r.queueRow(row!.id))!.publishedAt).toMatch(/Z$/);
  });
});

describeStores('publish queue', (s) => {
  it('two runners claiming at once take every row exactly once', async () => {
    const a = repoOf(await s.open());
    const b = await twin(s);
    for (let i = 0; i < 30; i++) await a.approve(post(`item-${i}`), approval(`k-${i}`, ['webhook']));
    const claimed: number[][] = [[], []];
    await Promise.all(
      [a, b].map(async (r, w) => {
        for (;;) {
          const row = await r.claimNext(['webhook']);
          if (!row) return;
          claimed[w]!.push(row.id);
          await sleep(1);
          await r.markPublished(row.id, `by ${w}`);
        }
      }),
    );
    const all = [...claimed[0]!, ...claimed[1]!].sort((x, y) => x - y);
    expect(all).toHaveLength(30);
    expect(new Set(all).size).toBe(30);
    expect((await a.queueCounts()).published).toBe(30);
    expect((await a.queue('daily-2025-12-10')).every((r) => r.attempts === 1)).toBe(true);
  });

  it('due_at: a future row waits, a past one goes; scheduled publishers wait for a time', async () => {
    const r = repoOf(await s.open());
    await r.approve(post('soon'), approval('k-soon', ['x']));
    await r.approve(post('later'), approval('k-later', ['x']));
    const [soon, later] = await r.queue('daily-2025-12-10');
    expect(await r.claimNext(['x'], 0, ['x'])).toBeUndefined();
    expect(await r.schedule(later!.id, new Date(Date.now() + 3_600_000).toISOString())).toBe(true);
    expect(await r.schedule(soon!.id, new Date(Date.now() - 1000).toISOString())).toBe(true);
    const got = await r.claimNext(['x'], 0, ['x']);
    expect(got!.id).toBe(soon!.id);
    expect(await r.claimNext(['x'], 0, ['x'])).toBeUndefined();
    expect(await r.schedule(soon!.id, null)).toBe(false);
    expect(await r.takenSlots('x', '2000-01-01T00:00:00.000Z')).toHaveLength(2);
    expect(await r.cancelRow(later!.id)).toBe(true);
    expect(await r.cancelRow(soon!.id)).toBe(false);
    expect(await r.queuedElsewhere(['folder'])).toBe(0);
  });

  it('failed attempts: queued again or failed for good; queuedElsewhere counts rows nobody here sends', async () => {
    const r = repoOf(await s.open());
    await r.approve(post('f'), approval('k-f', ['webhook', 'folder']));
    const row = (await r.claimNext(['webhook']))!;
    await r.countAttempt(row.id);
    await r.markFailed(row.id, 'queued', 'HTTP 503');
    expect(await r.queueRow(row.id)).toMatchObject({ state: 'queued', attempts: 2, lastError: 'HTTP 503' });
    const again = (await r.claimNext(['webhook']))!;
    await r.markFailed(again.id, 'failed', 'HTTP 400');
    expect((await r.queueRow(row.id))!.state).toBe('failed');
    expect(await r.queuedElsewhere(['webhook'])).toBe(1);
  });

  it('a row left sending by a dead runner is taken over (SQLite: at the next run; PostgreSQL: once its claim lapses)', async () => {
    const dead = repoOf(await s.open(), 50);
    await dead.approve(post('crash'), approval('k-crash', ['webhook']));
    const row = (await dead.claimNext(['webhook']))!;
    const next = await twin(s, 60_000);
    await sleep(120);
    expect(await next.recoverSending()).toBe(1);
    const taken = (await next.claimNext(['webhook']))!;
    expect(taken).toMatchObject({ id: row.id, key: 'k-crash', attempts: 2, state: 'sending' });
    if (s.kind === 'postgres') {
      // The dead runner's late answer changes nothing: the row is someone else's now.
      await dead.markPublished(row.id, 'late');
      expect((await next.queueRow(row.id))!.state).toBe('sending');
      expect(await (dead as PgReview).renewClaim(row.id)).toBe(false);
      expect(await (next as PgReview).renewClaim(row.id)).toBe(true);
    }
  });

  // Several workers on one store: PostgreSQL only (SQLite has one sender per edition, by its lease).
  if (s.kind === 'postgres')
    it('a live claim is not taken over', async () => {
      const a = repoOf(await s.open(), 60_000);
      await a.approve(post('busy'), approval('k-busy', ['webhook']));
      const row = (await a.claimNext(['webhook']))!;
      const b = await twin(s, 60_000);
      expect(await b.recoverSending()).toBe(0);
      expect(await b.claimNext(['webhook'])).toBeUndefined();
      expect((await b.queueRow(row.id))!.state).toBe('sending');
    });
});
