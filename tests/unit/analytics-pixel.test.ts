import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkPolicy, readerRefValue } from '../../src/analytics/links.ts';
import { analyticsRoutes } from '../../src/analytics/routes.ts';
import { issueOpen, issueReaderRef } from '../../src/analytics/token.ts';
import { openStore, SubscriberRepo } from '../../src/store/index.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';
import { testContext } from '../helpers/context.ts';

const SECRET = 'analytics-pixel-secret-0123456789';
const KEYS = [Buffer.from(SECRET)];
const ED = 'daily-2025-12-10';
const UA = { 'user-agent': 'Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Mail' };

function setup(analytics: Record<string, unknown>) {
  const dir = tempDir('bs-pixel-');
  const db = openStore(join(dir, 'data', 'b.db'));
  const ctx = testContext({
    config: { analytics },
    secrets: { secret: SECRET },
    paths: { store: join(dir, 'data', 'b.db') },
  });
  const app = analyticsRoutes(ctx, db, Buffer.from(SECRET));
  const opens = () => db.prepare('SELECT edition, subscriber_id FROM opens').all();
  return { ctx, db, app, opens };
}

describe('open pixel', () => {
  it('is off by default: no pixel in the link policy, and a genuine pixel URL records nothing', async () => {
    const { ctx, app, opens } = setup({});
    expect(linkPolicy(ctx, { id: ED } as never)?.pixel).toBeNull();
    const res = await app.request(`/o/${issueOpen(KEYS, ED)}.gif`, { headers: UA });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(opens()).toEqual([]);
  });

  it('with openPixel records an open (with the reader only under perReader); a bad token is a 404', async () => {
    const { ctx, db, app, opens } = setup({ openPixel: true, perReader: true });
    new SubscriberRepo(db).upsert({ email: 'o@example.com' }, 'test');
    const id = new SubscriberRepo(db).get('o@example.com')!.id;
    const pixel = linkPolicy(ctx, { id: ED } as never)!.pixel!;
    expect(pixel).toMatch(/^https:\/\/news\.example\.com\/broadsheet\/o\/[A-Za-z0-9_-]+$/);
    const path = new URL(pixel).pathname.replace('/broadsheet', '');
    expect((await app.request(`${path}.gif`, { headers: UA })).status).toBe(200);
    const ref = readerRefValue(ctx, KEYS, ED, id);
    expect(ref).toBe(`/${issueReaderRef(KEYS, ED, id)}`);
    expect((await app.request(`${path}${ref}.gif`, { headers: UA })).status).toBe(200);
    expect((await app.request(`${path}.gif`, { method: 'HEAD', headers: UA })).status).toBe(200);
    expect(opens()).toEqual([
      { edition: ED, subscriber_id: null },
      { edition: ED, subscriber_id: id },
    ]);
    expect((await app.request(`${path.slice(0, -3)}xyz.gif`, { headers: UA })).status).toBe(404);
  });

  it('readerRefValue is empty unless perReader', () => {
    const { ctx } = setup({});
    expect(readerRefValue(ctx, KEYS, ED, 1)).toBe('');
  });
});
