import { entry } from './entry.ts';

// Catalog entries for serve replicas sharing sessions, rate limits and the publish queue — issue 17. Same rules as catalog.ts.
export const webSharedCatalog = {
  WEB_ROUTE_NOT_ON_SHARED_STORE: entry<{ route: string; store: string }>({
    title: 'Not served on the shared store yet',
    message: (p) =>
      `${p.route} reads readers' records, which are not on the PostgreSQL store (${p.store}) in this version; the request was answered with 503`,
    hint: "Route readers' links (/u/, /p/, /c/, /r/, /o/, /subscribe, /hooks/) and /report to a `serve` on the newsroom's SQLite store until they move, or run serve on SQLite; editors' pages, sign-in, /report and the publish queue work on PostgreSQL.",
    exit: 1,
  }),
  WEB_STORE_UNHEALTHY: entry<{ store: string; detail: string }>({
    title: 'The store does not answer',
    message: (p) => `/healthz could not reach the store ${p.store}: ${p.detail}`,
    hint: 'Check that the database is up and reachable from this host (store.url / DATABASE_URL); the load balancer takes this replica out until /healthz answers 200 again.',
    exit: 1,
  }),
} as const;
