import { entry } from './entry.ts';

// Catalog entries for serve replicas sharing sessions, rate limits and the publish queue — issue 17. Same rules as catalog.ts.
export const webSharedCatalog = {
  // (entries go here; `entry` is used once the first lands)
} as const;
void entry;
