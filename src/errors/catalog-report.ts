import { entry } from './entry.ts';

// Catalog entries for broadsheet report and the report page (issue 15). Same rules as catalog.ts.
export const reportCatalog = {
  REPORT_EDITION_UNKNOWN: entry<{ edition: string; editions: string[] }>({
    title: 'No such edition in the send ledger',
    message: (p) =>
      `no sends are recorded for edition "${p.edition}"` +
      (p.editions.length
        ? ` (editions sent: ${p.editions.slice(0, 10).join(', ')}${p.editions.length > 10 ? `, … ${p.editions.length - 10} more` : ''})`
        : ' (no edition has been sent yet)'),
    hint: 'Name an edition listed above, or run `broadsheet report` without one for the latest; an edition that was built but never sent has nothing to report.',
    exit: 2,
  }),
  REPORT_NO_EDITIONS: entry<{ store: string }>({
    title: 'Nothing sent yet',
    message: (p) => `the store ${p.store} records no sends, so there is no edition to report on`,
    hint: 'Send an edition first (`broadsheet send`), or point --store at the store that `send` used.',
    exit: 1,
  }),
  REPORT_LAST_INVALID: entry<{ value: string }>({
    title: 'Bad --last',
    message: (p) => `--last takes a whole number from 1 to 1000, got "${p.value}"`,
    hint: 'Example: broadsheet report --last 10.',
    exit: 2,
  }),
} as const;
