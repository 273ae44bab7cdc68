import { entry } from './entry.ts';

// Catalog entries for serve replicas sharing sessions, rate limits and the publish queue — issue 17. Same rules as catalog.ts.
export const webSharedCatalog = {
  WEB_STORE_UNHEALTHY: entry<{ store: string; detail: string }>({
    title: 'The store does not answer',
    message: (p) => `/healthz could not reach the store ${p.store}: ${p.detail}`,
    hint: 'Check that the database is up and reachable from this host (store.url / DATABASE_URL); the load balancer takes this replica out until /healthz answers 200 again.',
    exit: 1,
  }),
} as const;
