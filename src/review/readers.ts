import { Hono } from 'hono';
import { analyticsRoutes } from '../analytics/routes.ts';
import type { Context } from '../context.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { webhookRoutes } from '../webhooks/routes.ts';
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
// /r/ and /o/ (click redirects, open pixel) are followed from mail clients;
// /hooks/<provider> is called by an ESP's servers and proves itself by the
// provider's signature, checked in src/webhooks/ (issue 15).

export const isReaderPath = (path: string) =>
  path === '/subscribe' ||
  path.startsWith('/c/') ||
  path.startsWith('/p/') ||
  path.startsWith('/r/') ||
  path.startsWith('/o/') ||
  path.startsWith('/hooks/');

// Each works on either store (issue 17): on PostgreSQL every `serve` replica
// shares the readers, pending signups, rate limits, clicks and mail events.
export function readerRoutes(ctx: Context, store: DB | Backend, secret: Buffer, brand: string) {
  const app = new Hono();
  if (ctx.config.subscribers.signup) app.route('/', subscribeRoutes(ctx, store, secret, brand).app);
  app.route('/p', preferencesRoutes(ctx, store, secret, brand));
  app.route('/', analyticsRoutes(ctx, store, secret));
  app.route('/hooks', webhookRoutes(ctx, store, secret));
  return app;
}
