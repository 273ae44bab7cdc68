import { expect, it } from 'vitest';
import type { Backend } from '../../src/store/backend.ts';
import { consentsFor } from '../../src/store/consent.ts';
import { exportReaderFrom, forgetReaderIn } from '../../src/store/privacy.ts';
import { subscribersFor } from '../../src/store/subscribers.ts';
import { keyedHash, suppressionFor } from '../../src/store/suppression.ts';
import { describeStores } from '../helpers/stores.ts';

// Readers, consent, suppression and privacy (issue 17): every method of the
// store interfaces, the same tests on SQLite and on PostgreSQL.

const T0 = new Date('2026-11-30T08:00:00.000Z');
const KEY = Buffer.alloc(32, 7);
const OLD = Buffer.alloc(32, 9);

/** A statement on either store (`?` placeholders). */
async function exec(b: Backend, sql: string, args: unknown[] = []): Promise<unknown[]> {
  if (b.kind === 'sqlite') {
    const st = b.db.prepare(sql);
    if (st.reader) return st.all(...args);
    st.run(...args);
    return [];
  }
  let n = 0;
  return (
    await b.pool.query(
      sql.replace(/\?/g, () => `$${++n}`),
      args,
    )
  ).rows;
}

describeStores('readers', (s) => {
  it('upsert adds, updates, leaves unchanged and never touches a status; get, byId, list and count agree', async () => {
    const b = await s.open();
    const subs = subscribersFor(b, () => T0);
    expect(await subs.upsert({ email: ' A@Example.com ', name: '陳大文', topics: ['a'] }, 'cli')).toBe(
      'added',
    );
    expect(await subs.upsert({ email: 'a@example.com', name: '陳大文', topics: ['a'] }, 'cli')).toBe(
      'unchanged',
    );
    expect(await subs.upsert({ email: 'a@example.com', locale: 'zh-Hans', topics: ['a'] }, 'cli')).toBe(
      'updated',
    );
    const a = (await subs.get('A@EXAMPLE.COM'))!;
    expect(a).toMatchObject({ email: 'a@example.com', name: '陳大文', locale: 'zh-Hans', topics: ['a'] });
    expect(a).toMatchObject({ status: 'active', source: 'cli', createdAt: T0.toISOString(), editions: null });
    expect(await subs.byId(a.id)).toEqual(a);
    expect(await subs.upsert({ email: 'b@example.com' }, 'form')).toBe('added');
    expect(await subs.setStatus('B@example.com', 'bounced', 'test')).toBe(true);
    expect(await subs.setStatus('nobody@example.com', 'bounced')).toBe(false);
    expect(await subs.upsert({ email: 'b@example.com', name: 'B' }, 'cli')).toBe('kept-status');
    expect((await subs.get('b@example.com'))!).toMatchObject({
      status: 'bounced',
      statusReason: 'test',
      name: 'B',
    });
    expect(await subs.count()).toBe(2);
    expect(await subs.count('active')).toBe(1);
    expect((await subs.list()).map((x) => x.email)).toEqual(['a@example.com', 'b@example.com']);
    expect((await subs.list({ status: 'bounced' })).map((x) => x.email)).toEqual(['b@example.com']);
    expect(await subs.get('nobody@example.com')).toBeUndefined();
  });

  it('upsertMany counts each outcome, a repeated address sees its first row, and each new reader gets one consent record', async () => {
    const b = await s.open();
    const subs = subscribersFor(b, () => T0);
    await subs.upsert({ email: 'old@example.com', name: 'Old' }, 'cli');
    await subs.setStatus('old@example.com', 'unsubscribed');
    const rows = Array.from({ length: 12_000 }, (_, i) => ({ email: `r${i}@example.com`, topics: ['t'] }));
    rows.push({ email: 'r5@example.com', topics: ['u'] }, { email: 'old@example.com', topics: [] });
    rows.push({ email: 'R5@example.com', topics: ['u'] });
    const counts = await subs.upsertMany(rows, 'import:readers.csv');
    expect(counts).toEqual({ added: 12_000, updated: 1, unchanged: 1, 'kept-status': 1 });
    expect((await subs.get('r5@example.com'))!.topics).toEqual(['u']);
    const r0 = (await subs.get('r0@example.com'))!;
    expect(await consentsFor(b).for(r0.id)).toEqual([
      {
        source: 'import',
        list: null,
        signupAt: T0.toISOString(),
        confirmedAt: null,
        ipHash: null,
        detail: 'import:readers.csv',
        createdAt: T0.toISOString(),
      },
    ]);
    expect(await exec(b, 'SELECT count(*) AS n FROM consent')).toEqual([{ n: 12_001 }]);
  });

  it('setPreferences changes only the fields given', async () => {
    const b = await s.open();
    const subs = subscribersFor(b, () => T0);
    await subs.upsert({ email: 'p@example.com', name: 'P', locale: 'zh-Hans', topics: ['x'] }, 'cli');
    const id = (await subs.get('p@example.com'))!.id;
    await subs.setPreferences(id, { editions: ['daily'], pausedUntil: '2026-12-24' });
    expect(await subs.byId(id)).toMatchObject({
      name: 'P',
      locale: 'zh-Hans',
      topics: ['x'],
      editions: ['daily'],
    });
    await subs.setPreferences(id, { name: null, editions: null, topics: [] });
    expect(await subs.byId(id)).toMatchObject({
      name: null,
      editions: null,
      topics: [],
      pausedUntil: '2026-12-24',
    });
    await subs.setPreferences(99_999, { name: 'x' }); // unknown: nothing happens
  });

  it('consent records are appended in order', async () => {
    const b = await s.open();
    await subscribersFor(b, () => T0).upsert({ email: 'c@example.com' }, 'form');
    const id = (await subscribersFor(b).get('c@example.com'))!.id;
    const c = consentsFor(b, () => T0);
    await c.record(id, {
      source: 'form',
      list: 'daily',
      confirmedAt: '2026-11-30T09:00:00.000Z',
      ipHash: 'h',
    });
    const all = await c.for(id);
    expect(all.map((x) => [x.source, x.list, x.confirmedAt, x.ipHash])).toEqual([
      ['form', null, null, null],
      ['form', 'daily', '2026-11-30T09:00:00.000Z', 'h'],
    ]);
    expect(await c.for(12345)).toEqual([]);
  });

  it('suppression: add, reason, count, remove; an entry under an old key matches and is re-keyed', async () => {
    const b = await s.open();
    const list = suppressionFor(b, [KEY], () => T0);
    expect(await list.count()).toBe(0);
    await list.add('X@example.com', 'bounced');
    await list.add('x@example.com', 'complained'); // replaces
    expect(await list.reason(' x@EXAMPLE.com')).toBe('complained');
    expect(await list.count()).toBe(1);
    await suppressionFor(b, [OLD]).add('y@example.com', 'forgotten');
    const rotated = suppressionFor(b, [KEY, OLD]);
    expect(await rotated.reason('y@example.com')).toBe('forgotten');
    const hashes = (await exec(b, 'SELECT hash FROM suppression ORDER BY hash')) as { hash: string }[];
    expect(hashes.map((h) => h.hash)).toContain(keyedHash(KEY, 'suppression', 'y@example.com'));
    expect(hashes.map((h) => h.hash)).not.toContain(keyedHash(OLD, 'suppression', 'y@example.com'));
    await rotated.remove('x@example.com');
    expect(await rotated.reason('x@example.com')).toBeUndefined();
    expect(await list.count()).toBe(1);
  });

  it('export holds profile, consent, sends and a timeline; forget erases it, keeps the placeholder and suppresses', async () => {
    const b = await s.open();
    const subs = subscribersFor(b, () => T0);
    await subs.upsert({ email: 'f@example.com', name: '黃嘉明', topics: ['a'] }, 'form');
    const id = (await subs.get('f@example.com'))!.id;
    await exec(
      b,
      `INSERT INTO sends (edition, subscriber_id, email, state, attempts, message_id, created_at, updated_at, sent_at, last_error)
       VALUES ('daily-2026-11-30', ?, 'f@example.com', 'sent', 1, '<m1@x>', ?, ?, ?, 'was 421')`,
      [id, T0.toISOString(), T0.toISOString(), '2026-11-30T08:05:00.000Z'],
    );
    await exec(
      b,
      "INSERT INTO mail_events (kind, source, subscriber_id, edition, detail, occurred_at, received_at) VALUES ('deferred', 'inbound', ?, 'daily-2026-11-30', 'f@example.com mailbox full', ?, ?)",
      [id, T0.toISOString(), T0.toISOString()],
    );
    await exec(
      b,
      "INSERT INTO signups (email, list, created_at, expires_at) VALUES ('f@example.com', 'daily', ?, '2026-12-01T00:00:00.000Z')",
      [T0.toISOString()],
    );
    const ex = (await exportReaderFrom(b, 'F@example.com', T0))!;
    expect(ex.profile).toMatchObject({ email: 'f@example.com', name: '黃嘉明' });
    expect(ex.consent).toHaveLength(1);
    expect(ex.sends).toEqual([
      {
        edition: 'daily-2026-11-30',
        state: 'sent',
        attempts: 1,
        transport: null,
        messageId: '<m1@x>',
        createdAt: T0.toISOString(),
        sentAt: '2026-11-30T08:05:00.000Z',
        lastError: 'was 421',
      },
    ]);
    expect(ex.events.map((e) => e.type)).toEqual(['added', 'sent']);
    expect(ex.pendingSignups).toHaveLength(1);
    expect(await exportReaderFrom(b, 'nobody@example.com', T0)).toBeUndefined();

    expect(await forgetReaderIn(b, [KEY], 'f@example.com', T0)).toBe(true);
    expect(await subs.get('f@example.com')).toBeUndefined();
    expect(await subs.byId(id)).toMatchObject({
      email: `erased-${id}@invalid`,
      name: null,
      status: 'unsubscribed',
      statusReason: 'forgotten',
    });
    expect(await exec(b, 'SELECT email, last_error FROM sends')).toEqual([
      { email: `erased-${id}@invalid`, last_error: null },
    ]);
    expect(await exec(b, 'SELECT detail FROM mail_events')).toEqual([{ detail: null }]);
    expect(await exec(b, 'SELECT count(*) AS n FROM consent')).toEqual([{ n: 0 }]);
    expect(await exec(b, 'SELECT email FROM signups')).toEqual([{ email: '' }]);
    expect(await suppressionFor(b, [KEY]).reason('f@example.com')).toBe('forgotten');
    expect(await forgetReaderIn(b, [KEY], 'f@example.com', T0)).toBe(false);
  });
});
