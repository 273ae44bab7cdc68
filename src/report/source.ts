import type { Awaitable, Backend } from '../store/backend.ts';
import {
  type CollectOptions,
  collectRecent,
  collectReport,
  type EditionReport,
  editionExists,
  type ReportSummary,
  sentEditions,
} from './collect.ts';
import {
  pgCollectRecent,
  pgCollectReport,
  pgEditionExists,
  pgHasSends,
  pgSentEditions,
} from './collect-pg.ts';

/**
 * The report's reads on either store (issue 17): the SQLite functions of
 * collect.ts (synchronous, unchanged) or their PostgreSQL twins (collect-pg.ts).
 */
export interface ReportSource {
  /** Whether the store holds a send ledger at all (a never-migrated PostgreSQL database does not). */
  hasLedger(): Awaitable<boolean>;
  sentEditions(): Awaitable<{ edition: string; firstSentAt: string | null }[]>;
  editionExists(edition: string): Awaitable<boolean>;
  collectReport(edition: string, opts?: CollectOptions): Awaitable<EditionReport>;
  collectRecent(n: number, opts?: CollectOptions): Awaitable<ReportSummary[]>;
}

export function reportSourceFor(b: Backend): ReportSource {
  if (b.kind === 'sqlite') {
    const { db } = b;
    return {
      hasLedger: () => true,
      sentEditions: () => sentEditions(db),
      editionExists: (e) => editionExists(db, e),
      collectReport: (e, o) => collectReport(db, e, o),
      collectRecent: (n, o) => collectRecent(db, n, o),
    };
  }
  const { pool } = b;
  return {
    hasLedger: () => pgHasSends(pool),
    sentEditions: () => pgSentEditions(pool),
    editionExists: (e) => pgEditionExists(pool, e),
    collectReport: (e, o) => pgCollectReport(pool, e, o),
    collectRecent: (n, o) => pgCollectRecent(pool, n, o),
  };
}
