import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MailEvents } from '../../src/store/events.ts';
import { openStore, SubscriberRepo } from '../../src/store/index.ts';
import { SuppressionList } from '../../src/store/suppression.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';

const KEYS = [Buffer.alloc(32, 7)];

function setup(now = () => new Date('2026-11-30T08:00:00Z')) {
  const db = openStore(join(tempDir('bs-events-'), 'data', 'b.db'));
  const subs = new SubscriberRepo(db);
  subs.upsert({ email: 'a@example.com' }, 'test');
  subs.upsert({ email: 'b@example.com' }, 'test');
  const id = (e: string) => subs.get(e)!.id;
  return {
    db,
    subs,
    id,
    events: new MailEvents(db, KEYS, { softBounceLimit: 3, softBounceWindowDays: 30 }, now),
  };
}

describe('mail events policy', () => {
  it('a hard bounce marks the reader bounced and suppresses the address; a repeat of its id is ignored', () => {
    const { db, subs, id, events } = setup();
    const e = {
      kind: 'bounce_hard',
      source: 'inbound',
      subscriberId: id('a@example.com'),
      status: '5.1.1',
      externalId: '<dsn1@mx>',
    } as const;
    expect(events.record(e).action).toBe('bounced');
    expect(subs.get('a@example.com')!.status).toBe('bounced');
    expect(new SuppressionList(db, KEYS).reason('a@example.com')).toBe('bounced');
    expect(events.record(e).action).toBe('duplicate');
    expect((db.prepare('SELECT count(*) AS n FROM mail_events').get() as { n: number }).n).toBe(1);
    expect(subs.get('b@example.com')!.status).toBe('active');
  });

  it('soft bounces count, and the limit within the window marks the reader bounced; older ones do not count', () => {
    let t = new Date('2026-09-01T00:00:00Z');
    const { subs, id, events } = setup(() => t);
    const soft = () =>
      events.record({
        kind: 'bounce_soft',
        source: 'inbound',
        subscriberId: id('a@example.com'),
        status: '4.2.2',
      }).action;
    expect(soft()).toBe('counted');
    t = new Date('2026-11-01T00:00:00Z'); // the first is now outside 30 days
    expect(soft()).toBe('counted');
    expect(soft()).toBe('counted');
    expect(subs.get('a@example.com')!.status).toBe('active');
    expect(soft()).toBe('bounced');
    expect(subs.get('a@example.com')!.statusReason).toMatch(/3 soft bounces in 30 days/);
  });

  it('a complaint wins over an unsubscribe, and nothing weakens it', () => {
    const { subs, id, events } = setup();
    const sid = id('b@example.com');
    expect(events.record({ kind: 'unsubscribe', source: 'inbound', subscriberId: sid }).action).toBe(
      'unsubscribed',
    );
    expect(events.record({ kind: 'unsubscribe', source: 'inbound', subscriberId: sid }).action).toBe(
      'kept-status',
    );
    expect(events.record({ kind: 'complaint', source: 'ses', subscriberId: sid }).action).toBe('complained');
    expect(events.record({ kind: 'bounce_hard', source: 'ses', subscriberId: sid }).action).toBe(
      'kept-status',
    );
    expect(subs.get('b@example.com')!.status).toBe('complained');
  });

  it('unknown and delivery events never change a reader; an event without a reader is kept', () => {
    const { subs, id, events } = setup();
    expect(
      events.record({ kind: 'unknown', source: 'inbound', subscriberId: id('a@example.com') }).action,
    ).toBe('recorded');
    expect(
      events.record({ kind: 'delivered', source: 'postmark', subscriberId: id('a@example.com') }).action,
    ).toBe('recorded');
    expect(events.record({ kind: 'bounce_hard', source: 'inbound' }).action).toBe('no-reader');
    expect(subs.get('a@example.com')!.status).toBe('active');
  });
});
