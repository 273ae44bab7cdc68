import { entry } from './entry.ts';

// Catalog entries for click redirects and the open pixel (issue 15). Same rules as catalog.ts.
export const analyticsCatalog = {} as const;
