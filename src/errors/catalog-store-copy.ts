import { entry } from './entry.ts';

// Catalog entries for `broadsheet store copy` (src/store/copy.ts) — issue 17. Same rules as catalog.ts.
export const storeCopyCatalog = {
  // (entries go here; `entry` is used once the first lands)
} as const;
void entry;
