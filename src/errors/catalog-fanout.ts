import { entry } from './entry.ts';

// Catalog entries for the send fan-out and `broadsheet worker` (src/fanout/) — issue 17. Same rules as catalog.ts.
export const fanoutCatalog = {
  // (entries go here; `entry` is used once the first lands)
} as const;
void entry;
