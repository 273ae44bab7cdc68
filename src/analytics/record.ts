import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { recordClickPg, recordOpenPg } from '../store/pg/analytics.ts';
import { stmt } from '../store/statements.ts';
import { keyedHash } from '../store/suppression.ts';
import type { AnalyticsConfig } from './config.ts';
import { scannerAgent } from './scanner.ts';

// Writing clicks and opens (tables from the issue-15 migration; meaning of the
// columns there). Each click is one short transaction: insert, then the burst
// rule over this visitor's recent clicks of the edition (index clicks_visitor),
// marking the whole burst — the earlier clicks too — as a scanner's.

export interface Hit {
  edition: string;
  method: string;
  /** The client address as seen through review.trustProxy. */
  ip: string;
  userAgent: string | undefined;
  /** Only with analytics.perReader: the reader the link's ref names. */
  subscriberId?: number;
  at: Date;
}

/** A keyed hash of (IP, user agent, UTC day): unique visitors without identity; unlinkable across days. */
export const visitorOf = (secret: Buffer, h: Pick<Hit, 'ip' | 'userAgent' | 'at'>) =>
  keyedHash(secret, 'click-visitor', `${h.ip}\n${h.userAgent ?? ''}\n${h.at.toISOString().slice(0, 10)}`);

export interface Recorded {
  scanner: boolean;
  /** Why the click was judged a scanner's (head, agent, burst, delay). */
  reason?: 'head' | 'agent' | 'burst' | 'delay';
}

/** A scanner judged by the request alone: HEAD, or a known scanner's agent. */
export function requestReason(cfg: AnalyticsConfig, hit: Hit): Recorded['reason'] {
  if (hit.method === 'HEAD') return 'head';
  if (scannerAgent(hit.userAgent, cfg.scannerAgents)) return 'agent';
  return undefined;
}

/** recordClick on either store (issue 17: PostgreSQL in src/store/pg/analytics.ts). */
export function recordClickIn(
  backend: Backend,
  secret: Buffer,
  cfg: AnalyticsConfig,
  hit: Hit & { story: string },
): Recorded | Promise<Recorded> {
  return backend.kind === 'sqlite'
    ? recordClick(backend.db, secret, cfg, hit)
    : recordClickPg(backend.pool, cfg, hit, visitorOf(secret, hit), requestReason(cfg, hit));
}

/** recordOpen on either store. */
export function recordOpenIn(
  backend: Backend,
  secret: Buffer,
  cfg: AnalyticsConfig,
  hit: Hit,
): boolean | Promise<boolean> {
  if (backend.kind === 'sqlite') return recordOpen(backend.db, secret, cfg, hit);
  if (requestReason(cfg, hit)) return false;
  return recordOpenPg(backend.pool, hit, visitorOf(secret, hit)).then(() => true);
}

export function recordClick(
  db: DB,
  secret: Buffer,
  cfg: AnalyticsConfig,
  hit: Hit & { story: string },
): Recorded {
  const visitor = visitorOf(secret, hit);
  const at = hit.at.toISOString();
  let reason = requestReason(cfg, hit);
  return db.transaction((): Recorded => {
    // A reader that no longer exists is stored as NULL (the column's foreign key).
    const subscriber =
      hit.subscriberId === undefined
        ? null
        : ((
            stmt(db, 'SELECT id FROM subscribers WHERE id = ?').get(hit.subscriberId) as
              | { id: number }
              | undefined
          )?.id ?? null);
    if (!reason && subscriber !== null && cfg.scannerDelaySeconds > 0) {
      const row = stmt(db, 'SELECT sent_at FROM sends WHERE edition = ? AND subscriber_id = ?').get(
        hit.edition,
        subscriber,
      ) as { sent_at: string | null } | undefined;
      const sent = row?.sent_at ? Date.parse(row.sent_at) : Number.NaN;
      if (Number.isFinite(sent) && hit.at.getTime() - sent < cfg.scannerDelaySeconds * 1000) reason = 'delay';
    }
    stmt(
      db,
      `INSERT INTO clicks (edition, story, subscriber_id, visitor, method, scanner, at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(hit.edition, hit.story, subscriber, visitor, hit.method, reason ? 1 : 0, at);
    if (hit.method !== 'HEAD') {
      const since = new Date(hit.at.getTime() - cfg.burst.seconds * 1000).toISOString();
      const { n } = stmt(
        db,
        `SELECT COUNT(DISTINCT story) AS n FROM clicks
           WHERE visitor = ? AND at >= ? AND at <= ? AND edition = ? AND method <> 'HEAD'`,
      ).get(visitor, since, at, hit.edition) as { n: number };
      if (n >= cfg.burst.links) {
        stmt(
          db,
          'UPDATE clicks SET scanner = 1 WHERE visitor = ? AND at >= ? AND at <= ? AND edition = ? AND scanner = 0',
        ).run(visitor, since, at, hit.edition);
        reason ??= 'burst';
      }
    }
    return reason ? { scanner: true, reason } : { scanner: false };
  })();
}

/** One open of the pixel (scanners' agents and HEAD requests are not recorded at all). */
export function recordOpen(db: DB, secret: Buffer, cfg: AnalyticsConfig, hit: Hit): boolean {
  if (requestReason(cfg, hit)) return false;
  stmt(
    db,
    `INSERT INTO opens (edition, visitor, subscriber_id, at)
     VALUES (?, ?, (SELECT id FROM subscribers WHERE id = ?), ?)`,
  ).run(hit.edition, visitorOf(secret, hit), hit.subscriberId ?? null, hit.at.toISOString());
  return true;
}
