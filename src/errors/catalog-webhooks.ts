import { entry } from './entry.ts';

// Catalog entries for ESP webhooks on serve (/hooks/<provider>) (issue 15). Same rules as catalog.ts.
export const webhookCatalog = {} as const;
