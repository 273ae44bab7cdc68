import type { NewSession, SessionRow, SessionStore } from '../sessions.ts';
import { KEEP_MS } from '../sessions.ts';
import type { PgPool } from './pool.ts';

// Editors' sessions on PostgreSQL (issue 17): every `serve` replica reads and
// revokes the same rows, so a session made on one replica works on another,
// and signing out anywhere ends it everywhere at once. Times are epoch ms from
// the DATABASE clock: replicas whose clocks differ still agree on expiry.

/** Epoch milliseconds of the database's clock (the time every replica agrees on). */
export const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
/** The database's clock as the ISO text the TEXT time columns hold (…T…Z, milliseconds). */
export const DB_NOW_ISO = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A pool or one transaction's client: both answer query(). */
export type Queryable = Pick<PgPool, 'query'>;

const COLS = `id, verifier_hash AS "verifierHash", editor_id AS "editorId", editor_name AS "editorName", role,
  bootstrap_tag AS "bootstrapTag", created_at AS "createdAt", last_seen_at AS "lastSeenAt", expires_at AS "expiresAt",
  ip_hash AS "ipHash", user_agent AS "userAgent", revoked_at AS "revokedAt", revoked_reason AS "revokedReason"`;

const LIVE = `revoked_at IS NULL AND expires_at > ${DB_NOW_MS}`;

export class PgSessions implements SessionStore {
  constructor(private readonly q: Queryable) {}

  async create(s: NewSession): Promise<number> {
    // Pruning rides along with a sign-in, as on SQLite; one statement, no transaction needed.
    await this.q.query(
      `DELETE FROM editor_sessions WHERE expires_at < ${DB_NOW_MS} - $1::bigint
         OR (revoked_at IS NOT NULL AND revoked_at < ${DB_NOW_MS} - $1::bigint)`,
      [KEEP_MS],
    );
    const r = await this.q.query<{ expiresAt: number }>(
      `INSERT INTO editor_sessions (id, verifier_hash, editor_id, editor_name, role, bootstrap_tag,
         created_at, last_seen_at, expires_at, ip_hash, user_agent)
       SELECT $1, $2, $3, $4, $5, $6, n, n, n + $7::bigint, $8, $9 FROM (SELECT ${DB_NOW_MS} AS n) t
       RETURNING expires_at AS "expiresAt"`,
      [
        s.id,
        s.verifierHash,
        s.editorId,
        s.editorName,
        s.role,
        s.bootstrapTag,
        s.ttlMs,
        s.ipHash,
        s.userAgent,
      ],
    );
    return r.rows[0]!.expiresAt;
  }

  async live(id: string): Promise<SessionRow | undefined> {
    const r = await this.q.query<SessionRow>(
      `SELECT ${COLS} FROM editor_sessions WHERE id = $1 AND ${LIVE}`,
      [id],
    );
    return r.rows[0];
  }

  /** At most one write a minute per session, decided by the database's clock. */
  async touch(id: string, lastSeenAt: number): Promise<void> {
    await this.q.query(
      `UPDATE editor_sessions SET last_seen_at = ${DB_NOW_MS} WHERE id = $1 AND last_seen_at = $2 AND last_seen_at < ${DB_NOW_MS} - 60000`,
      [id, lastSeenAt],
    );
  }

  async list(opts: { all?: boolean } = {}): Promise<SessionRow[]> {
    const r = await this.q.query<SessionRow>(
      `SELECT ${COLS} FROM editor_sessions ${opts.all ? '' : `WHERE ${LIVE}`} ORDER BY created_at DESC`,
    );
    return r.rows;
  }

  private async revokeWhere(where: string, params: unknown[], reason: string): Promise<number> {
    const r = await this.q.query(
      `UPDATE editor_sessions SET revoked_at = ${DB_NOW_MS}, revoked_reason = $1 WHERE ${where} AND ${LIVE}`,
      [reason, ...params],
    );
    return r.rowCount ?? 0;
  }

  async revoke(id: string, reason: string): Promise<boolean> {
    return (await this.revokeWhere('id = $2', [id], reason)) === 1;
  }

  revokeEditor(editorId: number, reason: string): Promise<number> {
    return this.revokeWhere('editor_id = $2', [editorId], reason);
  }

  revokeAll(reason: string): Promise<number> {
    return this.revokeWhere('TRUE', [], reason);
  }

  revokeBootstrap(reason: string): Promise<number> {
    return this.revokeWhere('bootstrap_tag IS NOT NULL', [], reason);
  }
}
