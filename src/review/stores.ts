import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Context } from '../context.ts';
import type { Backend } from '../store/backend.ts';
import { EditorRepo, type EditorStore } from '../store/editors.ts';
import { PgEditors } from '../store/pg/editors.ts';
import { PgRateLimits } from '../store/pg/ratelimits.ts';
import { PgReview } from '../store/pg/review.ts';
import { PgSessions } from '../store/pg/sessions.ts';
import { type LoginLimits, ReviewRepo, type ReviewStore } from '../store/review.ts';
import { SessionRepo, type SessionStore } from '../store/sessions.ts';

// The review app's repositories on the store `serve` was given (issue 17): the
// SQLite classes (host clock, synchronous) or the PostgreSQL ones (database
// clock), behind one set of interfaces. Everything a replica must share with
// the others — accounts, sessions, the sign-in rate limit, decisions and the
// publish queue — lives in the store, never in the process.

export interface WebStores {
  backend: Backend;
  editors: EditorStore;
  sessions: SessionStore;
  review: ReviewStore;
  limits: LoginLimits;
}

/**
 * How long a publish run's hold lasts (the SQLite lease, a PostgreSQL row
 * claim): longer than any one attempt plus its wait — a social post is up to
 * ~4 calls, then a rate-limit wait.
 */
export function publishHoldMs(ctx: Context): number {
  const cfg = ctx.config.review;
  return Math.max(
    60_000,
    cfg.webhook.timeoutMs * (cfg.webhook.attempts + 1) * 2,
    (cfg.social.timeoutMs * 4 + cfg.social.maxWaitMs) * 2,
  );
}

/** A name for this process as a queue runner: host, pid and a random tag (a restarted pid is another runner). */
export const runnerName = () => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

export function webStoresFor(ctx: Context, backend: Backend): WebStores {
  if (backend.kind === 'sqlite') {
    const review = new ReviewRepo(backend.db, () => ctx.clock.now());
    return {
      backend,
      editors: new EditorRepo(backend.db, () => ctx.clock.now()),
      sessions: new SessionRepo(backend.db, () => ctx.clock.now().getTime()),
      review,
      limits: review,
    };
  }
  return {
    backend,
    editors: new PgEditors(backend.pool),
    sessions: new PgSessions(backend.pool),
    review: new PgReview(backend.pool, { runner: runnerName(), claimTtlMs: publishHoldMs(ctx) }),
    limits: new PgRateLimits(backend.pool),
  };
}
