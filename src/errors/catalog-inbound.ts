import { entry } from './entry.ts';

// Catalog entries for broadsheet inbound, the IMAP poller, DSN/ARF parsing, VERP (issue 15). Same rules as catalog.ts.
export const inboundCatalog = {} as const;
