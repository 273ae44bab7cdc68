import type { Context as HonoContext, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

// What every state-changing request passes before any handler reads it.
//
// 1. Where it comes from (defence in depth beside the CSRF token): a browser
//    names the page's origin in `Origin` and the relation in `Sec-Fetch-Site`.
//    A POST whose Origin is another site, or whose Sec-Fetch-Site is
//    cross-site/same-site, is refused with 403. A POST with neither header is a
//    non-browser client (curl, a script, a mail provider's one-click
//    unsubscribe) and passes on to the CSRF check. /u/ (one-click unsubscribe)
//    is exempt: its token is the capability, there is no session to ride on,
//    and RFC 8058 senders include browser-based mail clients that POST
//    cross-site.
//
// 2. How big it is: `review.limits.bodyBytes`. hono's bodyLimit refuses a
//    declared Content-Length over the limit without reading a byte, and counts
//    a chunked body as it streams, stopping at the limit (checked against
//    @hono/node-server in tests/integration/review-limits.test.ts with a real
//    50 MB POST); @hono/node-server then discards what the client still sends
//    for at most 500 ms and closes the connection.

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GuardOptions {
  publicUrl: string;
  bodyBytes: number;
  /** A different body limit for some paths (ESP webhooks post large batches). */
  largeBody?: { bytes: number; applies: (path: string) => boolean };
  trustProxy: boolean;
  /** Paths exempt from the origin check (not from the size limit). */
  exempt: (path: string) => boolean;
  forbidden: (c: HonoContext) => Response | Promise<Response>;
  tooLarge: (c: HonoContext) => Response | Promise<Response>;
}

/** The origins this app's own pages are served from. */
function ownOrigins(c: HonoContext, publicUrl: string, trustProxy: boolean): Set<string> {
  const hosts = new Set<string>();
  const host = c.req.header('host');
  if (host) hosts.add(host.toLowerCase());
  if (trustProxy) {
    const xfh = c.req.header('x-forwarded-host')?.split(',')[0]?.trim();
    if (xfh) hosts.add(xfh.toLowerCase());
  }
  const out = new Set<string>([new URL(publicUrl).origin]);
  // Scheme is not compared for our own host: a TLS proxy in front makes the
  // browser say https:// while we see http.
  for (const h of hosts) {
    out.add(`http://${h}`);
    out.add(`https://${h}`);
  }
  return out;
}

export function crossSite(c: HonoContext, o: Pick<GuardOptions, 'publicUrl' | 'trustProxy'>): boolean {
  const site = c.req.header('sec-fetch-site')?.toLowerCase();
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = c.req.header('origin');
  if (origin === undefined) return false;
  // "null": a sandboxed frame, a file:// page or a cross-origin redirect — never our own form.
  return !ownOrigins(c, o.publicUrl, o.trustProxy).has(origin.toLowerCase());
}

export function requestGuard(o: GuardOptions): MiddlewareHandler {
  const limit = bodyLimit({ maxSize: o.bodyBytes, onError: (c) => o.tooLarge(c) });
  const large = o.largeBody && bodyLimit({ maxSize: o.largeBody.bytes, onError: (c) => o.tooLarge(c) });
  return async (c, next) => {
    if (SAFE.has(c.req.method)) return next();
    if (!o.exempt(c.req.path) && crossSite(c, o)) return o.forbidden(c);
    if (large && o.largeBody!.applies(c.req.path)) return large(c, next);
    return limit(c, next);
  };
}
