import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DB } from '../store/db.ts';

// The edition report's numbers (issue 15): what the send ledger, the mail
// events (DSNs, ARF reports, mailto and link unsubscribes, ESP webhooks) and the
// click log say about one edition. Every query goes through an index — the
// report must stay quick at 1M readers (tests/unit/report-plan.test.ts checks
// each plan; bench/report.ts times it).
//
// Definitions (docs/report.md):
//   sent        ledger rows in state sent or committed; committed = the message's
//               end-of-data went out and no reply came (a crash): in doubt, and
//               counted as sent, as the ledger never sends it again
//   delivered   readers with an ESP 'delivered' event when there are any; else an
//               estimate: sent − readers who bounced (hard or soft) after being sent
//   bounced     hard: readers with a bounce_hard event ∪ the ledger's synchronous
//               5xx failures; soft: readers with a bounce_soft event and no hard one
//   unique clicks   distinct readers (analytics.perReader) or else distinct visitors
//               (keyed IP + user agent per day: an approximation); scanner clicks
//               are counted apart and never in the numbers
//   CTR         unique clickers ÷ delivered

export const TIMELINE_HOURS = 48;

export interface StoryClicks {
  story: string;
  /** From the built edition's manifest (out/<edition>/manifest.json); the story id when it is not there. */
  title: string;
  clicks: number;
  unique: number;
}

export interface EditionReport {
  edition: string;
  /** The edition's title from its manifest, when built here. */
  title: string | null;
  /** When its first message was accepted (ISO), or when it was queued if none was. */
  firstSentAt: string | null;
  ledger: {
    queued: number;
    committed: number;
    sent: number;
    deferred: number;
    failed: number;
    suppressed: number;
    total: number;
  };
  /** sent + committed (committed: in doubt after a crash, counted as sent). */
  sent: number;
  inDoubt: number;
  delivered: { count: number; basis: 'events' | 'estimate' };
  deferred: { count: number; ledger: number; events: number };
  bounced: { hard: number; soft: number; total: number; ledgerFailed: number };
  complained: number;
  unsubscribed: { count: number; bySource: Record<string, number> };
  suppressed: number;
  /** Events for this edition that name no reader (kept, not in the reader counts above). */
  unattributedEvents: number;
  clicks: {
    total: number;
    unique: number;
    /**
     * readers: every click came by a per-reader link (exact); visitors: none did, so unique
     * means distinct keyed visitor hashes (IP + user agent per day: approximate); mixed: some of each.
     */
    uniqueBasis: 'readers' | 'visitors' | 'mixed' | 'none';
    scannerFiltered: number;
    /** unique ÷ delivered, 0..1; null when nothing was delivered. */
    ctr: number | null;
    stories: StoryClicks[];
    top: StoryClicks[];
  };
  /** Only when the open pixel recorded something (analytics.openPixel is off by default). */
  opens: { total: number; unique: number } | null;
  rates: { bounce: number | null; complaint: number | null; unsubscribe: number | null };
  /** Clicks (scanners left out) per hour over the first 48 hours from firstSentAt. */
  timeline: { start: string | null; hours: number[] };
}

const ratio = (n: number, d: number) => (d > 0 ? n / d : null);

export function hasTable(db: DB, name: string): boolean {
  return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name));
}

/**
 * Editions in the send ledger, most recently sent first. Distinct editions by
 * hopping through the primary key (one seek per edition, never a scan of 1M
 * rows), then each one's first send by the (edition, sent_at) index.
 */
export function sentEditions(db: DB): { edition: string; firstSentAt: string | null }[] {
  if (!hasTable(db, 'sends')) return [];
  const names = db
    .prepare(
      `WITH RECURSIVE eds(x) AS (
         SELECT (SELECT min(edition) FROM sends)
         UNION ALL SELECT (SELECT min(edition) FROM sends WHERE edition > x) FROM eds WHERE x IS NOT NULL
       ) SELECT x FROM eds WHERE x IS NOT NULL`,
    )
    .pluck()
    .all() as string[];
  return names
    .map((edition) => ({ edition, firstSentAt: firstSend(db, edition) }))
    .sort(
      (a, b) =>
        (b.firstSentAt ?? '').localeCompare(a.firstSentAt ?? '') || b.edition.localeCompare(a.edition),
    );
}

/** The first accepted message's time; when none was accepted yet (all in doubt, deferred …), the first queueing. */
function firstSend(db: DB, edition: string): string | null {
  const sent = db
    .prepare('SELECT min(sent_at) FROM sends WHERE edition = ? AND sent_at IS NOT NULL')
    .pluck()
    .get(edition) as string | null;
  if (sent) return sent;
  return (db.prepare('SELECT created_at FROM sends WHERE edition = ? LIMIT 1').pluck().get(edition) ??
    null) as string | null;
}

export function editionExists(db: DB, edition: string): boolean {
  return (
    hasTable(db, 'sends') && Boolean(db.prepare('SELECT 1 FROM sends WHERE edition = ? LIMIT 1').get(edition))
  );
}

/** Story titles and the edition title from out/<edition>/manifest.json, when it was built here. */
export function manifestTitles(
  outDir: string | undefined,
  edition: string,
): { title: string | null; stories: Map<string, string> } {
  const stories = new Map<string, string>();
  if (!outDir || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(edition) || edition.includes('..'))
    return { title: null, stories };
  const file = join(outDir, edition, 'manifest.json');
  if (!existsSync(file)) return { title: null, stories };
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as {
      edition?: {
        title?: string;
        articles?: { id: string; title: string }[];
        stats?: { id: string; title: string }[];
      };
    };
    for (const a of [...(m.edition?.articles ?? []), ...(m.edition?.stats ?? [])])
      if (typeof a?.id === 'string' && typeof a.title === 'string') stories.set(a.id, a.title);
    return { title: typeof m.edition?.title === 'string' ? m.edition.title : null, stories };
  } catch {
    return { title: null, stories };
  }
}

export interface CollectOptions {
  /** out/ — for story titles. */
  outDir?: string;
  /** How many stories `top` lists (default 5). */
  top?: number;
}

/** What the store says about one edition: the counts each store's queries gather (SQLite here, PostgreSQL in collect-pg.ts). */
export interface EditionCounts {
  ledger: EditionReport['ledger'];
  firstSentAt: string | null;
  /** Distinct readers with an event of each kind. */
  readers: { delivered: number; deferred: number; complaint: number; unsubscribe: number };
  unattributed: number;
  hard: number;
  soft: number;
  bouncedAfterSend: number;
  bySource: Record<string, number>;
  scannerFiltered: number;
  opens: { total: number; uniq: number } | null;
}

export const emptyLedger = (): EditionReport['ledger'] => ({
  queued: 0,
  committed: 0,
  sent: 0,
  deferred: 0,
  failed: 0,
  suppressed: 0,
  total: 0,
});

export function collectReport(db: DB, edition: string, opts: CollectOptions = {}): EditionReport {
  const ledger = emptyLedger();
  if (hasTable(db, 'sends'))
    for (const r of db
      .prepare('SELECT state, count(*) AS n FROM sends WHERE edition = ? GROUP BY state')
      .all(edition) as { state: keyof typeof ledger; n: number }[]) {
      ledger[r.state] = r.n;
      ledger.total += r.n;
    }
  const firstSentAt = ledger.total ? firstSend(db, edition) : null;

  // Mail events: readers per kind (one index, (edition, kind, subscriber_id)).
  const events = hasTable(db, 'mail_events');
  const readers = (kind: string) =>
    events
      ? (db
          .prepare(
            'SELECT count(DISTINCT subscriber_id) FROM mail_events WHERE edition = ? AND kind = ? AND subscriber_id IS NOT NULL',
          )
          .pluck()
          .get(edition, kind) as number)
      : 0;
  const count = (sql: string, ...args: unknown[]) =>
    events
      ? (db
          .prepare(sql)
          .pluck()
          .get(...args) as number)
      : 0;
  const bySource: Record<string, number> = {};
  if (events)
    for (const r of db.prepare(SQL.bySource).all(edition) as { source: string; n: number }[])
      bySource[r.source] = r.n;
  let opens: EditionCounts['opens'] = null;
  if (hasTable(db, 'opens')) opens = db.prepare(SQL.opens).get(edition) as { total: number; uniq: number };
  const tally = new ClickTally(firstSentAt);
  if (hasTable(db, 'clicks')) {
    tally.scannerFiltered = db.prepare(SQL.scanners).pluck().get(edition) as number;
    // Rows as arrays (raw): at 200k clicks, building an object per row is much of the cost.
    const rows = db.prepare(SQL.clicks).raw(true).iterate(edition) as Iterable<ClickRow>;
    for (const r of rows) tally.add(r);
  }
  const counts: EditionCounts = {
    ledger,
    firstSentAt,
    readers: {
      delivered: readers('delivered'),
      deferred: readers('deferred'),
      complaint: readers('complaint'),
      unsubscribe: readers('unsubscribe'),
    },
    unattributed: count(SQL.unattributed, edition),
    // Without the events table, hard bounces are the ledger's 5xx failures alone.
    hard: events ? count(SQL.hard, edition, edition) : ledger.failed,
    soft: count(SQL.soft, edition),
    bouncedAfterSend: count(SQL.bouncedAfterSend, edition),
    bySource,
    scannerFiltered: tally.scannerFiltered,
    opens,
  };
  return assembleReport(edition, counts, tally, manifestTitles(opts.outDir, edition), opts.top ?? 5);
}

/**
 * The report's queries, written once for both stores in the common subset
 * (`?` placeholders; collect-pg.ts numbers them for PostgreSQL).
 */
export const SQL = {
  unattributed:
    "SELECT count(*) FROM mail_events WHERE edition = ? AND kind IN ('delivered','deferred','bounce_hard','bounce_soft','complaint','unsubscribe') AND subscriber_id IS NULL",
  // Hard: event readers ∪ the ledger's 5xx failures (a reader in both counts once).
  hard: `SELECT count(*) FROM (
             SELECT subscriber_id FROM mail_events WHERE edition = ? AND kind = 'bounce_hard' AND subscriber_id IS NOT NULL
             UNION SELECT subscriber_id FROM sends WHERE edition = ? AND state = 'failed') AS u`,
  soft: `SELECT count(DISTINCT e.subscriber_id) FROM mail_events e
           WHERE e.edition = ? AND e.kind = 'bounce_soft' AND e.subscriber_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM mail_events h WHERE h.edition = e.edition AND h.kind = 'bounce_hard' AND h.subscriber_id = e.subscriber_id)
             AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.edition = e.edition AND s.subscriber_id = e.subscriber_id AND s.state = 'failed')`,
  // Readers who were sent the message and bounced later (DSN or ESP event).
  bouncedAfterSend: `SELECT count(DISTINCT e.subscriber_id) FROM mail_events e
           JOIN sends s ON s.edition = e.edition AND s.subscriber_id = e.subscriber_id
           WHERE e.edition = ? AND e.kind IN ('bounce_hard','bounce_soft') AND s.state IN ('sent','committed')`,
  bySource:
    "SELECT source, count(DISTINCT subscriber_id) AS n FROM mail_events WHERE edition = ? AND kind = 'unsubscribe' AND subscriber_id IS NOT NULL GROUP BY source",
  opens:
    "SELECT count(*) AS total, count(DISTINCT coalesce('r' || subscriber_id, 'v' || visitor)) AS uniq FROM opens WHERE edition = ?",
  scanners: 'SELECT count(*) FROM clicks WHERE edition = ? AND scanner > 0',
  clicks:
    'SELECT story, subscriber_id, visitor, at FROM clicks WHERE edition = ? AND scanner = 0 ORDER BY at',
};

/** The report from the counts and the click tally (pure: the same for both stores). */
export function assembleReport(
  edition: string,
  c: EditionCounts,
  tally: ClickTally,
  manifest: { title: string | null; stories: Map<string, string> },
  top: number,
): EditionReport {
  const { ledger } = c;
  const sent = ledger.sent + ledger.committed;
  const delivered =
    c.readers.delivered > 0
      ? { count: c.readers.delivered, basis: 'events' as const }
      : { count: Math.max(0, sent - c.bouncedAfterSend), basis: 'estimate' as const };
  const { clicks, timeline } = tally.finish(manifest.stories, top);
  clicks.scannerFiltered = c.scannerFiltered;
  clicks.ctr = ratio(clicks.unique, delivered.count);
  const { hard, soft } = c;
  const complained = c.readers.complaint;
  const unsubscribed = c.readers.unsubscribe;
  return {
    edition,
    title: manifest.title,
    firstSentAt: c.firstSentAt,
    ledger,
    sent,
    inDoubt: ledger.committed,
    delivered,
    deferred: {
      count: ledger.deferred + c.readers.deferred,
      ledger: ledger.deferred,
      events: c.readers.deferred,
    },
    bounced: { hard, soft, total: hard + soft, ledgerFailed: ledger.failed },
    complained,
    unsubscribed: { count: unsubscribed, bySource: c.bySource },
    suppressed: ledger.suppressed,
    unattributedEvents: c.unattributed,
    clicks,
    opens: c.opens?.total ? { total: c.opens.total, unique: c.opens.uniq } : null,
    rates: {
      // Bounces over every message attempted (sent + the ledger's failures).
      bounce: ratio(hard + soft, sent + ledger.failed),
      complaint: ratio(complained, delivered.count),
      unsubscribe: ratio(unsubscribed, delivered.count),
    },
    timeline,
  };
}

/** A counted click as the query returns it: story, reader id (per-reader links), visitor hash, time. */
export type ClickRow = [string, number | null, string, string];

/**
 * Clicks, stories and the timeline in one pass over the edition's counted
 * clicks, in `at` order (the clicks_report index covers every column read). A
 * click's person is the reader when the link was per reader, else the keyed
 * visitor hash.
 */
export class ClickTally {
  scannerFiltered = 0;
  private readonly hours = new Array<number>(TIMELINE_HOURS).fill(0);
  private readonly bounds: string[];
  private hour = -1;
  private total = 0;
  private perReader = 0;
  // A person: the reader id (a number) when the link was per reader, else "v" + the visitor hash.
  private readonly everyone = new Set<number | string>();
  private readonly per = new Map<string, { clicks: number; who: Set<number | string> }>();

  constructor(private readonly start: string | null) {
    // Hour boundaries as ISO strings: rows come in `at` order, so each click's
    // hour is found by moving a cursor, without parsing dates.
    const t0 = start ? Date.parse(start) : Number.NaN;
    this.bounds = Number.isNaN(t0)
      ? []
      : Array.from({ length: TIMELINE_HOURS + 1 }, (_, i) => new Date(t0 + i * 3_600_000).toISOString());
  }

  add([story, sid, visitor, at]: ClickRow): void {
    const who = sid === null ? `v${visitor}` : sid;
    if (sid !== null) this.perReader++;
    this.total++;
    this.everyone.add(who);
    let s = this.per.get(story);
    if (!s) {
      s = { clicks: 0, who: new Set() };
      this.per.set(story, s);
    }
    s.clicks++;
    s.who.add(who);
    const { bounds } = this;
    while (this.hour < TIMELINE_HOURS && bounds.length && at >= bounds[this.hour + 1]!) this.hour++;
    if (this.hour >= 0 && this.hour < TIMELINE_HOURS) this.hours[this.hour]!++;
  }

  finish(
    titles: Map<string, string>,
    top: number,
  ): { clicks: EditionReport['clicks']; timeline: EditionReport['timeline'] } {
    const { total, perReader } = this;
    const stories = [...this.per]
      .map(([story, s]) => ({
        story,
        title: titles.get(story) ?? story,
        clicks: s.clicks,
        unique: s.who.size,
      }))
      .sort((a, b) => b.unique - a.unique || b.clicks - a.clicks || a.story.localeCompare(b.story));
    return {
      clicks: {
        total,
        unique: this.everyone.size,
        uniqueBasis:
          total === 0 ? 'none' : !perReader ? 'visitors' : perReader === total ? 'readers' : 'mixed',
        scannerFiltered: this.scannerFiltered,
        ctr: null,
        stories,
        top: stories.slice(0, top),
      },
      timeline: { start: this.start, hours: this.hours },
    };
  }
}

/** One line per edition for `--last N` and /report: the headline numbers. */
export interface ReportSummary {
  edition: string;
  title: string | null;
  firstSentAt: string | null;
  sent: number;
  delivered: number;
  deliveredBasis: 'events' | 'estimate';
  bouncedHard: number;
  bouncedSoft: number;
  complained: number;
  unsubscribed: number;
  uniqueClicks: number;
  ctr: number | null;
}

export const summaryOf = (r: EditionReport): ReportSummary => ({
  edition: r.edition,
  title: r.title,
  firstSentAt: r.firstSentAt,
  sent: r.sent,
  delivered: r.delivered.count,
  deliveredBasis: r.delivered.basis,
  bouncedHard: r.bounced.hard,
  bouncedSoft: r.bounced.soft,
  complained: r.complained,
  unsubscribed: r.unsubscribed.count,
  uniqueClicks: r.clicks.unique,
  ctr: r.clicks.ctr,
});

/** The last `n` editions sent, newest first, with their headline numbers. */
export function collectRecent(db: DB, n: number, opts: CollectOptions = {}): ReportSummary[] {
  return sentEditions(db)
    .slice(0, n)
    .map((e) => summaryOf(collectReport(db, e.edition, opts)));
}

/**
 * The edition most recently sent to a reader (sent or committed), for an event
 * that names a reader but no edition (a one-click unsubscribe). One primary-key
 * seek per edition — sends has no index by reader, and a scan of 1M rows per
 * click is what this avoids.
 */
export function latestEditionSentTo(db: DB, subscriberId: number): string | null {
  if (!hasTable(db, 'sends')) return null;
  return (db
    .prepare(
      `WITH RECURSIVE eds(x) AS (
         SELECT (SELECT min(edition) FROM sends)
         UNION ALL SELECT (SELECT min(edition) FROM sends WHERE edition > x) FROM eds WHERE x IS NOT NULL
       )
       SELECT s.edition FROM eds JOIN sends s ON s.edition = eds.x AND s.subscriber_id = ?
       WHERE s.state IN ('sent','committed')
       ORDER BY coalesce(s.sent_at, s.updated_at) DESC LIMIT 1`,
    )
    .pluck()
    .get(subscriberId) ?? null) as string | null;
}
