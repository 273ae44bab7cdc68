// Conformance of the editors' accounts, sessions and the sign-in / signup rate
// limits on both stores (issue 17): the same tests against SQLite and a real
// PostgreSQL. On PostgreSQL two separate pools stand for two `serve` replicas.
import { afterEach, expect, it } from 'vitest';
import { type Backend, closeBackend, openBackend } from '../../src/store/backend.ts';
import { EditorRepo, type EditorStore } from '../../src/store/editors.ts';
import { PgEditors } from '../../src/store/pg/editors.ts';
import { PgRateLimits } from '../../src/store/pg/ratelimits.ts';
import { PgSessions } from '../../src/store/pg/sessions.ts';
import { type LoginLimits, ReviewRepo } from '../../src/store/review.ts';
import type { NewSession, SessionStore } from '../../src/store/sessions.ts';
import { SessionRepo } from '../../src/store/sessions.ts';
import { type SignupHits, SignupRepo } from '../../src/store/signups.ts';
import { describeStores, STORE_CONFIG, type StoreUnderTest } from '../helpers/stores.ts';

interface Repos {
  editors: EditorStore;
  sessions: SessionStore;
  limits: LoginLimits;
  hits: SignupHits;
}
const reposOf = (b: Backend): Repos =>
  b.kind === 'sqlite'
    ? {
        editors: new EditorRepo(b.db),
        sessions: new SessionRepo(b.db),
        limits: new ReviewRepo(b.db),
        hits: new SignupRepo(b.db, []),
      }
    : {
        editors: new PgEditors(b.pool),
        sessions: new PgSessions(b.pool),
        limits: new PgRateLimits(b.pool),
        hits: new PgRateLimits(b.pool),
      };

const extra: Backend[] = [];
afterEach(async () => {
  for (const b of extra.splice(0)) await closeBackend(b).catch(() => {});
});
/** A second handle on the same store: another replica's connection. */
async function twin(s: StoreUnderTest): Promise<Repos> {
  const b = await openBackend(s.target(), STORE_CONFIG);
  extra.push(b);
  return reposOf(b);
}

const session = (id: string, over: Partial<NewSession> = {}): NewSession => ({
  id,
  verifierHash: 'ab'.repeat(32),
  editorId: null,
  editorName: '值班編輯',
  role: 'admin',
  bootstrapTag: null,
  ipHash: 'iphash',
  userAgent: 'ua/1',
  ttlMs: 3_600_000,
  ...over,
});
/** Set a session's last_seen_at directly (a session idle for a while), through another handle. */
async function setLastSeen(s: StoreUnderTest, id: string, at: number) {
  const b = await openBackend(s.target(), STORE_CONFIG);
  extra.push(b);
  if (b.kind === 'postgres')
    await b.pool.query('UPDATE editor_sessions SET last_seen_at = $1 WHERE id = $2', [at, id]);
  else b.db.prepare('UPDATE editor_sessions SET last_seen_at = ? WHERE id = ?').run(at, id);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeStores('editor sessions', (s) => {
  it('a session made through one handle is live through another, with its fields and expiry', async () => {
    const a = reposOf(await s.open());
    const b = await twin(s);
    const exp = await a.sessions.create(session('aaaabbbbcccc'));
    const row = await b.sessions.live('aaaabbbbcccc');
    expect(row).toMatchObject({
      id: 'aaaabbbbcccc',
      editorName: '值班編輯',
      role: 'admin',
      editorId: null,
      bootstrapTag: null,
      ipHash: 'iphash',
      userAgent: 'ua/1',
      revokedAt: null,
      expiresAt: exp,
    });
    expect(row!.expiresAt - row!.createdAt).toBe(3_600_000);
    expect(row!.lastSeenAt).toBe(row!.createdAt);
    expect(await b.sessions.live('zzzzzzzzzzzz')).toBeUndefined();
  });

  it('revoking through one handle ends the session for the other at once; ended rows stay listable', async () => {
    const a = reposOf(await s.open());
    const b = await twin(s);
    await a.sessions.create(session('sess00000001'));
    await a.sessions.create(session('sess00000002'));
    expect(await b.sessions.revoke('sess00000001', 'signed out')).toBe(true);
    expect(await a.sessions.live('sess00000001')).toBeUndefined();
    expect(await a.sessions.revoke('sess00000001', 'again')).toBe(false);
    expect((await a.sessions.list()).map((r) => r.id)).toEqual(['sess00000002']);
    const all = await a.sessions.list({ all: true });
    expect(all.find((r) => r.id === 'sess00000001')).toMatchObject({ revokedReason: 'signed out' });
    expect(all.find((r) => r.id === 'sess00000001')!.revokedAt).toBeGreaterThan(0);
  });

  it('expires by the store clock', async () => {
    const a = reposOf(await s.open());
    await a.sessions.create(session('shortlived01', { ttlMs: 30 }));
    await a.sessions.create(session('longlived001'));
    await sleep(80);
    expect(await a.sessions.live('shortlived01')).toBeUndefined();
    expect(await a.sessions.live('longlived001')).toBeDefined();
    expect(await a.sessions.revoke('shortlived01', 'late')).toBe(false);
  });

  it('revokes by editor, bootstrap tag and all, counting only live sessions', async () => {
    const r = reposOf(await s.open());
    expect(await r.editors.add('alice', 'admin', 'h')).toBe(true);
    const alice = (await r.editors.byName('alice'))!;
    await r.sessions.create(session('alice0000001', { editorId: alice.id, editorName: 'alice' }));
    await r.sessions.create(session('alice0000002', { editorId: alice.id, editorName: 'alice' }));
    await r.sessions.create(session('boot00000001', { bootstrapTag: 'tag' }));
    await r.sessions.create(session('other0000001'));
    expect(await r.sessions.revokeEditor(alice.id, 'password changed')).toBe(2);
    expect(await r.sessions.revokeEditor(alice.id, 'again')).toBe(0);
    expect(await r.sessions.revokeBootstrap('account exists')).toBe(1);
    expect(await r.sessions.revokeAll('all')).toBe(1);
    expect(await r.sessions.list()).toEqual([]);
  });

  it('touch writes at most once a minute', async () => {
    const r = reposOf(await s.open());
    await r.sessions.create(session('touch0000001'));
    const row = (await r.sessions.live('touch0000001'))!;
    await r.sessions.touch(row.id, row.lastSeenAt);
    expect((await r.sessions.live(row.id))!.lastSeenAt).toBe(row.lastSeenAt);
    // Seen two minutes ago: the next page view records activity.
    const old = row.lastSeenAt - 120_000;
    await setLastSeen(s, row.id, old);
    await r.sessions.touch(row.id, old);
    expect((await r.sessions.live(row.id))!.lastSeenAt).toBeGreaterThan(old + 60_000);
  });
});

describeStores('editor accounts', (s) => {
  it('names are unique without regard to case; lookups ignore case', async () => {
    const r = reposOf(await s.open());
    expect(await r.editors.count()).toBe(0);
    expect(await r.editors.add('Alice', 'admin', 'hash-a')).toBe(true);
    expect(await r.editors.add('alice', 'editor', 'hash-b')).toBe(false);
    expect(await r.editors.add('ALICE', 'editor', 'hash-b')).toBe(false);
    expect(await r.editors.add('bob', 'editor', 'hash-c')).toBe(true);
    const a = await r.editors.byName('aLiCe');
    expect(a).toMatchObject({ name: 'Alice', role: 'admin', passwordHash: 'hash-a' });
    expect(await r.editors.byId(a!.id)).toMatchObject({ name: 'Alice' });
    expect(a!.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await r.editors.list()).map((e) => e.name)).toEqual(['Alice', 'bob']);
    expect(await r.editors.count()).toBe(2);
    expect(await r.editors.admins()).toBe(1);
  });

  it('role, password and removal', async () => {
    const r = reposOf(await s.open());
    await r.editors.add('carol', 'editor', 'old');
    const c = (await r.editors.byName('carol'))!;
    await r.editors.setRole(c.id, 'admin');
    await r.editors.setPassword(c.id, 'new');
    expect(await r.editors.byId(c.id)).toMatchObject({ role: 'admin', passwordHash: 'new' });
    expect(await r.editors.admins()).toBe(1);
    await r.editors.remove(c.id);
    expect(await r.editors.byName('carol')).toBeUndefined();
    expect(await r.editors.count()).toBe(0);
  });
});

describeStores('sign-in and signup rate limits', (s) => {
  it('login failures counted through one handle are seen through another; clearing resets', async () => {
    const a = reposOf(await s.open());
    const b = await twin(s);
    await a.limits.addLoginFailure('10.0.0.9', 60_000);
    await b.limits.addLoginFailure('10.0.0.9', 60_000);
    await a.limits.addLoginFailure('10.0.0.8', 60_000);
    const seen = await b.limits.loginFailures('10.0.0.9', 60_000);
    expect(seen.count).toBe(2);
    expect(seen.retryAfterMs).toBeGreaterThan(0);
    expect(seen.retryAfterMs).toBeLessThanOrEqual(60_000);
    await a.limits.clearLoginFailures('10.0.0.9');
    expect((await b.limits.loginFailures('10.0.0.9', 60_000)).count).toBe(0);
    expect((await b.limits.loginFailures('10.0.0.8', 60_000)).count).toBe(1);
  });

  it('failures older than the window do not count', async () => {
    const a = reposOf(await s.open());
    await a.limits.addLoginFailure('10.0.0.7', 60_000);
    await sleep(60);
    expect((await a.limits.loginFailures('10.0.0.7', 30)).count).toBe(0);
    expect((await a.limits.loginFailures('10.0.0.7', 60_000)).count).toBe(1);
  });

  it('signup hits: the limit holds across handles, per key', async () => {
    const a = reposOf(await s.open());
    const b = await twin(s);
    expect(await a.hits.hit('ip:1', 3, 3_600_000)).toBe(true);
    expect(await b.hits.hit('ip:1', 3, 3_600_000)).toBe(true);
    expect(await a.hits.hit('ip:1', 3, 3_600_000)).toBe(true);
    expect(await b.hits.hit('ip:1', 3, 3_600_000)).toBe(false);
    expect(await b.hits.hit('ip:2', 3, 3_600_000)).toBe(true);
  });
});
