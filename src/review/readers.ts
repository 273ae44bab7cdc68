import { Hono } from 'hono';
import type { Context } from '../context.ts';
import type { DB } from '../store/db.ts';
import { preferencesRoutes } from './preferences.ts';
import { subscribeRoutes } from './subscribe.ts';

// The readers' public routes besides /u/ (issue 14), registered on the review
// app in one line. They are exempt from the app's Origin check, each for its
// own reason: /subscribe is a form newsrooms embed on their own sites (a
// cross-site POST by design; subscribers.allowedOrigins narrows it, and a
// signup only ever starts a double opt-in), /c/ and /p/ carry their capability
// in the token, and mail providers' one-click POSTs come from other origins.
// The body-size limit applies to them like to every route. /p/ changes
// settings, so it refuses cross-site POSTs itself (preferences.ts).

export const isReaderPath = (path: string) =>
  path === '/subscribe' || path.startsWith('/c/') || path.startsWith('/p/');

export function readerRoutes(ctx: Context, db: DB, secret: Buffer, brand: string) {
  const app = new Hono();
  if (ctx.config.subscribers.signup) app.route('/', subscribeRoutes(ctx, db, secret, brand).app);
  app.route('/p', preferencesRoutes(ctx, db, secret, brand));
  return app;
}
