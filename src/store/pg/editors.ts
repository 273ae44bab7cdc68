import type { EditorAccount, EditorRole, EditorStore } from '../editors.ts';
import { DB_NOW_ISO, type Queryable } from './sessions.ts';

// Editor accounts on PostgreSQL (issue 17). Names are unique without regard to
// case, as on SQLite (COLLATE NOCASE there; a unique index on lower(name) here,
// made by toPostgres): every lookup compares lower(name).

const COLS = `id, name, role, password_hash AS "passwordHash", created_at AS "createdAt", updated_at AS "updatedAt"`;

export class PgEditors implements EditorStore {
  constructor(private readonly q: Queryable) {}

  async count(): Promise<number> {
    return (await this.q.query<{ n: number }>('SELECT count(*) AS n FROM editors')).rows[0]!.n;
  }

  async list(): Promise<EditorAccount[]> {
    return (await this.q.query<EditorAccount>(`SELECT ${COLS} FROM editors ORDER BY lower(name), name`)).rows;
  }

  async byName(name: string): Promise<EditorAccount | undefined> {
    const r = await this.q.query<EditorAccount>(`SELECT ${COLS} FROM editors WHERE lower(name) = lower($1)`, [
      name,
    ]);
    return r.rows[0];
  }

  async byId(id: number): Promise<EditorAccount | undefined> {
    return (await this.q.query<EditorAccount>(`SELECT ${COLS} FROM editors WHERE id = $1`, [id])).rows[0];
  }

  /** A new account; false when the name is taken (in any case). */
  async add(name: string, role: EditorRole, passwordHash: string): Promise<boolean> {
    const r = await this.q.query(
      `INSERT INTO editors (name, role, password_hash, created_at, updated_at)
       SELECT $1, $2, $3, n, n FROM (SELECT ${DB_NOW_ISO} AS n) t
       ON CONFLICT DO NOTHING`,
      [name, role, passwordHash],
    );
    return r.rowCount === 1;
  }

  async setPassword(id: number, passwordHash: string): Promise<void> {
    await this.q.query(`UPDATE editors SET password_hash = $1, updated_at = ${DB_NOW_ISO} WHERE id = $2`, [
      passwordHash,
      id,
    ]);
  }

  async setRole(id: number, role: EditorRole): Promise<void> {
    await this.q.query(`UPDATE editors SET role = $1, updated_at = ${DB_NOW_ISO} WHERE id = $2`, [role, id]);
  }

  async remove(id: number): Promise<void> {
    await this.q.query('DELETE FROM editors WHERE id = $1', [id]);
  }

  async admins(): Promise<number> {
    return (await this.q.query<{ n: number }>("SELECT count(*) AS n FROM editors WHERE role = 'admin'"))
      .rows[0]!.n;
  }
}
