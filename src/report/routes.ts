import { Hono } from 'hono';
import type { Context } from '../context.ts';
import type { DB } from '../store/db.ts';

/** The edition report in the review app, /report/<edition> (editors only; issue 15). */
export function reportRoutes(_ctx: Context, _db: DB) {
  return new Hono();
}
