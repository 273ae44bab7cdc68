import { entry } from './entry.ts';

// Catalog entries for broadsheet report and the report page (issue 15). Same rules as catalog.ts.
export const reportCatalog = {} as const;
