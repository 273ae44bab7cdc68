import type { DB } from '../store/db.ts';

// What the edition report reads from `clicks` and `opens` (issue 15). Scanner
// clicks (scanner = 1) are never counted, only reported as scannerCount.
// Every query starts from an index: clicks_edition (edition, story, at) for
// per-edition counts and timelines, clicks_visitor (visitor, at) for bursts.
//
// Unique clicks: without analytics.perReader a "unique click" is a distinct
// visitor (keyed hash of IP, user agent and UTC day), so one reader clicking
// the same story on two days, or from phone and laptop, counts twice; with
// perReader, clicks that carry a reader count once per reader.

export interface StoryClicks {
  story: string;
  /** Distinct readers (perReader) or visitors who followed the story's link. */
  unique: number;
  /** Every counted (non-scanner) click. */
  total: number;
}

/** Unique and total clicks per story of an edition, most unique first (scanners left out). */
export function uniqueClicksByStory(db: DB, edition: string): StoryClicks[] {
  return db
    .prepare(
      `SELECT story,
              COUNT(DISTINCT COALESCE('r' || subscriber_id, 'v' || visitor)) AS "unique",
              COUNT(*) AS total
       FROM clicks INDEXED BY clicks_edition
       WHERE edition = ? AND scanner = 0
       GROUP BY story
       ORDER BY "unique" DESC, total DESC, story`,
    )
    .all(edition) as StoryClicks[];
}

/** Distinct clickers of the edition across all its stories (for click-through rate). */
export function uniqueClickers(db: DB, edition: string): number {
  const row = db
    .prepare(
      `SELECT COUNT(DISTINCT COALESCE('r' || subscriber_id, 'v' || visitor)) AS n
       FROM clicks INDEXED BY clicks_edition WHERE edition = ? AND scanner = 0`,
    )
    .get(edition) as { n: number };
  return row.n;
}

/**
 * Counted clicks per hour for `hours` hours from `since` (e.g. the send's start):
 * an array of `hours` numbers, hour 0 first; clicks outside the window are left out.
 */
export function clicksTimeline(db: DB, edition: string, since: Date, hours: number): number[] {
  const out = new Array<number>(Math.max(0, hours)).fill(0);
  if (!hours) return out;
  const from = since.toISOString();
  const to = new Date(since.getTime() + hours * 3_600_000).toISOString();
  const rows = db
    .prepare(
      `SELECT at FROM clicks INDEXED BY clicks_edition
       WHERE edition = ? AND scanner = 0 AND at >= ? AND at < ?`,
    )
    .all(edition, from, to) as { at: string }[];
  for (const r of rows) {
    const h = Math.floor((Date.parse(r.at) - since.getTime()) / 3_600_000);
    if (h >= 0 && h < hours) out[h]!++;
  }
  return out;
}

/** Clicks recorded for the edition but judged a link scanner's (never counted). */
export function scannerCount(db: DB, edition: string): number {
  const row = db
    .prepare('SELECT COUNT(*) AS n FROM clicks INDEXED BY clicks_edition WHERE edition = ? AND scanner = 1')
    .get(edition) as { n: number };
  return row.n;
}

/** Opens of the pixel (analytics.openPixel): all, and distinct readers/visitors. */
export function openCounts(db: DB, edition: string): { total: number; unique: number } {
  return db
    .prepare(
      `SELECT COUNT(*) AS total, COUNT(DISTINCT COALESCE('r' || subscriber_id, 'v' || visitor)) AS "unique"
       FROM opens WHERE edition = ?`,
    )
    .get(edition) as { total: number; unique: number };
}
