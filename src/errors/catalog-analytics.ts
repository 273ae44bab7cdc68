import { entry } from './entry.ts';

// Catalog entries for click redirects and the open pixel (issue 15). Same rules as catalog.ts.
// Neither ends a command: /r/ always answers (a redirect or the 404 page); these
// name what is logged when something goes wrong behind it.
export const analyticsCatalog = {
  ANALYTICS_LINK_INVALID: entry<{ path: string }>({
    title: 'Click link not recognised',
    message: (p) =>
      `${p.path}: not a genuine click link (forged, altered, cut short, or made with a secret no longer in use)`,
    hint: 'Nothing was recorded and nobody was redirected. If real links fail after a secret change, keep the old secret in BROADSHEET_SECRET_PREVIOUS.',
    exit: 1,
  }),
  ANALYTICS_RECORD_FAILED: entry<{ edition: string; detail: string }>({
    title: 'Click not recorded',
    message: (p) => `a click on ${p.edition} was not recorded: ${p.detail}`,
    hint: 'The reader was still redirected. Check that the store is writable (broadsheet status) and not locked by a long backup.',
    exit: 1,
  }),
} as const;
