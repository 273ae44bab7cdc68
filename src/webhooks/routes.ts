import { Hono } from 'hono';
import type { Context } from '../context.ts';
import type { DB } from '../store/db.ts';

/** ESP event webhooks, mounted at /hooks on `serve` (issue 15). */
export function webhookRoutes(_ctx: Context, _db: DB, _secret: Buffer) {
  return new Hono();
}
