import { Hono } from 'hono';
import type { Context } from '../context.ts';
import type { DB } from '../store/db.ts';

/** Click redirects /r/<token> and the optional open pixel /o/<token> (issue 15). */
export function analyticsRoutes(_ctx: Context, _db: DB, _secret: Buffer) {
  return new Hono();
}
