import { entry } from './entry.ts';

// Catalog entries for heartbeats, health endpoints and host status (src/ops/) — issue 17. Same rules as catalog.ts.
export const opsCatalog = {
  // (entries go here; `entry` is used once the first lands)
} as const;
void entry;
