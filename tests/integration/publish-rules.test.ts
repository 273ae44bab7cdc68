// The small rules social publishing rests on: reading each platform's
// rate-limit headers, Bluesky record keys that are valid TIDs and fixed by the
// post, LinkedIn's escaped commentary, next free slot in the newsroom's zone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordKey } from '../../src/review/publishers/bluesky.ts';
import { littleText } from '../../src/review/publishers/linkedin.ts';
import { waitFromHeaders } from '../../src/review/publishers/social.ts';
import { checkSocial, nextFreeSlot, publicHost } from '../../src/review/social.ts';
import { openStore } from '../../src/store/db.ts';
import { ReviewRepo } from '../../src/store/review.ts';
import { testContext } from '../helpers/context.ts';

const now = Date.parse('2026-11-30T08:00:00Z');
const h = (o: Record<string, string>) => (n: string) => o[n];

describe('rate-limit headers', () => {
  it("reads Retry-After (seconds, date) and the platforms' reset headers", () => {
    expect(waitFromHeaders(h({ 'retry-after': '7' }), now)).toBe(7000);
    expect(waitFromHeaders(h({ 'retry-after': new Date(now + 5000).toUTCString() }), now)).toBe(5000);
    // Bluesky and X: epoch seconds.
    expect(waitFromHeaders(h({ 'ratelimit-reset': String(now / 1000 + 30) }), now)).toBe(30_000);
    expect(waitFromHeaders(h({ 'x-rate-limit-reset': String(now / 1000 + 900) }), now)).toBe(900_000);
    // Mastodon: an ISO time.
    expect(waitFromHeaders(h({ 'x-ratelimit-reset': new Date(now + 61_000).toISOString() }), now)).toBe(
      61_000,
    );
    // IETF draft: seconds from now.
    expect(waitFromHeaders(h({ 'ratelimit-reset': '12' }), now)).toBe(12_000);
    expect(waitFromHeaders(h({}), now)).toBeUndefined();
  });
});

describe('Bluesky record keys', () => {
  it('are valid TIDs, the same for the same post, different for another', () => {
    const a = recordKey({ key: 'abc', approvedAt: '2026-11-30T08:00:00.000Z' });
    // The TID syntax of the AT Protocol spec (atproto.com/specs/tid): 13 base32-sortable characters, top bit 0.
    expect(a).toMatch(/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/);
    expect(recordKey({ key: 'abc', approvedAt: '2026-11-30T08:00:00.000Z' })).toBe(a);
    expect(recordKey({ key: 'abd', approvedAt: '2026-11-30T08:00:00.000Z' })).not.toBe(a);
  });
});

describe('LinkedIn commentary', () => {
  it('escapes reserved characters and turns hashtags into templates', () => {
    expect(littleText('數讀 (2025) *新* #人工智能 a_b')).toBe(
      '數讀 \\(2025\\) \\*新\\* {hashtag|\\#|人工智能} a\\_b',
    );
  });
});

describe('next free slot', () => {
  it('is the first posting time ahead, in the config timezone, that no post holds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bs-slot-'));
    const ctx = testContext({
      root: dir,
      now: new Date(now), // 16:00 in Hong Kong
      config: { timezone: 'Asia/Hong_Kong', review: { social: { times: { x: ['09:00', '18:30'] } } } },
    });
    const db = openStore(join(dir, 'db.sqlite'));
    const repo = new ReviewRepo(db, () => new Date(now));
    const first = nextFreeSlot(ctx, repo, 'x')!;
    expect(first.toISOString()).toBe('2026-11-30T10:30:00.000Z');
    repo.approve(
      { edition: 'e', itemId: 'i', platform: 'x' },
      { editor: 'a', format: 'x', caption: 'c', edited: null, key: 'k1', publishers: ['x'] },
    );
    repo.schedule(repo.queue('e')[0]!.id, first.toISOString());
    expect(nextFreeSlot(ctx, repo, 'x')!.toISOString()).toBe('2026-12-01T01:00:00.000Z');
    db.close();
  });
});

describe('Instagram and Threads need a public publicUrl', () => {
  it('publicHost tells loopback and private addresses from public ones', () => {
    for (const u of [
      'http://127.0.0.1/',
      'http://localhost:8787/',
      'http://192.168.1.20/',
      'http://10.0.0.5/',
      'http://[::1]/',
      'http://box.local/',
    ])
      expect(publicHost(u), u).toBe(false);
    for (const u of ['https://news.example.com/', 'https://203.0.113.9/broadsheet/'])
      expect(publicHost(u), u).toBe(true);
  });

  it('publish --check reports them failing with a loopback publicUrl, before calling anything', async () => {
    const ctx = testContext({ config: { publicUrl: 'http://127.0.0.1:8787/' } });
    const r = await checkSocial(ctx, {
      INSTAGRAM_ACCOUNT_ID: '1',
      INSTAGRAM_TOKEN: 't',
      META_GRAPH_URL: 'http://127.0.0.1:9',
    });
    expect(r.find((p) => p.platform === 'instagram')).toMatchObject({
      state: 'failing',
      message: expect.stringContaining('BROADSHEET_PUBLIC_URL'),
    });
    expect(r.find((p) => p.platform === 'threads')).toMatchObject({ state: 'missing' });
  });
});
