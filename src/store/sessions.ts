import type { Awaitable } from './backend.ts';
import type { DB } from './db.ts';
import type { EditorRole } from './editors.ts';

// Editors' sessions, server-side (table in the editors migration). Times are
// epoch milliseconds. A revoked or expired row never signs anyone in again; rows
// are kept a while after that so `editors sessions --all` can show what happened.

export interface SessionRow {
  id: string;
  verifierHash: string;
  editorId: number | null;
  editorName: string;
  role: EditorRole;
  bootstrapTag: string | null;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  ipHash: string | null;
  userAgent: string | null;
  revokedAt: number | null;
  revokedReason: string | null;
}

export type NewSession = Pick<
  SessionRow,
  'id' | 'verifierHash' | 'editorId' | 'editorName' | 'role' | 'bootstrapTag' | 'ipHash' | 'userAgent'
> & { ttlMs: number };

const COLS = `id, verifier_hash AS verifierHash, editor_id AS editorId, editor_name AS editorName, role,
  bootstrap_tag AS bootstrapTag, created_at AS createdAt, last_seen_at AS lastSeenAt, expires_at AS expiresAt,
  ip_hash AS ipHash, user_agent AS userAgent, revoked_at AS revokedAt, revoked_reason AS revokedReason`;

/** How long revoked and expired rows stay listable before they are pruned. */
export const KEEP_MS = 30 * 24 * 3600_000;

/**
 * Editors' sessions on either store (issue 17): SessionRepo (SQLite, host
 * clock) and PgSessions (src/store/pg/sessions.ts, database time, so every
 * `serve` replica agrees on expiry). Callers `await` each call.
 */
export interface SessionStore {
  create(s: NewSession): Awaitable<number>;
  live(id: string): Awaitable<SessionRow | undefined>;
  touch(id: string, lastSeenAt: number): Awaitable<void>;
  list(opts?: { all?: boolean }): Awaitable<SessionRow[]>;
  revoke(id: string, reason: string): Awaitable<boolean>;
  revokeEditor(editorId: number, reason: string): Awaitable<number>;
  revokeAll(reason: string): Awaitable<number>;
  revokeBootstrap(reason: string): Awaitable<number>;
}

export class SessionRepo implements SessionStore {
  constructor(
    private readonly db: DB,
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  /** Store a new session; returns its expiry (now + ttl). */
  create(s: NewSession): number {
    const now = this.nowMs();
    const expiresAt = now + s.ttlMs;
    this.db.transaction(() => {
      this.db
        .prepare(
          'DELETE FROM editor_sessions WHERE expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)',
        )
        .run(now - KEEP_MS, now - KEEP_MS);
      this.db
        .prepare(
          `INSERT INTO editor_sessions (id, verifier_hash, editor_id, editor_name, role, bootstrap_tag,
             created_at, last_seen_at, expires_at, ip_hash, user_agent)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          s.id,
          s.verifierHash,
          s.editorId,
          s.editorName,
          s.role,
          s.bootstrapTag,
          now,
          now,
          expiresAt,
          s.ipHash,
          s.userAgent,
        );
    })();
    return expiresAt;
  }

  /** A session that can still sign someone in (not revoked, not expired). */
  live(id: string): SessionRow | undefined {
    return this.db
      .prepare(`SELECT ${COLS} FROM editor_sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?`)
      .get(id, this.nowMs()) as SessionRow | undefined;
  }

  /** Record activity, at most once a minute per session (a write per page view is not worth it). */
  touch(id: string, lastSeenAt: number) {
    const now = this.nowMs();
    if (now - lastSeenAt < 60_000) return;
    this.db.prepare('UPDATE editor_sessions SET last_seen_at = ? WHERE id = ?').run(now, id);
  }

  list(opts: { all?: boolean } = {}): SessionRow[] {
    const where = opts.all ? '' : 'WHERE revoked_at IS NULL AND expires_at > ?';
    const stmt = this.db.prepare(`SELECT ${COLS} FROM editor_sessions ${where} ORDER BY created_at DESC`);
    return (opts.all ? stmt.all() : stmt.all(this.nowMs())) as SessionRow[];
  }

  /** Revoke one session; false when there is no live session with that id. */
  revoke(id: string, reason: string): boolean {
    return (
      this.db
        .prepare(
          'UPDATE editor_sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL AND expires_at > ?',
        )
        .run(this.nowMs(), reason, id, this.nowMs()).changes === 1
    );
  }

  /** Revoke every live session of an account; returns how many. */
  revokeEditor(editorId: number, reason: string): number {
    return this.db
      .prepare(
        'UPDATE editor_sessions SET revoked_at = ?, revoked_reason = ? WHERE editor_id = ? AND revoked_at IS NULL AND expires_at > ?',
      )
      .run(this.nowMs(), reason, editorId, this.nowMs()).changes;
  }

  /** Revoke every live session; returns how many. */
  revokeAll(reason: string): number {
    return this.db
      .prepare(
        'UPDATE editor_sessions SET revoked_at = ?, revoked_reason = ? WHERE revoked_at IS NULL AND expires_at > ?',
      )
      .run(this.nowMs(), reason, this.nowMs()).changes;
  }

  /** Revoke every live bootstrap session (BROADSHEET_EDITOR_PASSWORD); returns how many. */
  revokeBootstrap(reason: string): number {
    return this.db
      .prepare(
        'UPDATE editor_sessions SET revoked_at = ?, revoked_reason = ? WHERE bootstrap_tag IS NOT NULL AND revoked_at IS NULL AND expires_at > ?',
      )
      .run(this.nowMs(), reason, this.nowMs()).changes;
  }
}
