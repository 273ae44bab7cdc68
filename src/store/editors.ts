import type { Awaitable } from './backend.ts';
import type { DB } from './db.ts';

// Editor accounts (`broadsheet editors …`, the review app's sign-in). The
// password hash is opaque here (src/review/password.ts makes and checks it);
// names are unique without regard to ASCII case.

export const EDITOR_ROLES = ['editor', 'admin'] as const;
export type EditorRole = (typeof EDITOR_ROLES)[number];

export interface EditorAccount {
  id: number;
  name: string;
  role: EditorRole;
  passwordHash: string;
  createdAt: string;
  updatedAt: string;
}

const COLS =
  'id, name, role, password_hash AS passwordHash, created_at AS createdAt, updated_at AS updatedAt';

/** Editor accounts on either store (issue 17): EditorRepo (SQLite) and PgEditors (src/store/pg/editors.ts). */
export interface EditorStore {
  count(): Awaitable<number>;
  list(): Awaitable<EditorAccount[]>;
  byName(name: string): Awaitable<EditorAccount | undefined>;
  byId(id: number): Awaitable<EditorAccount | undefined>;
  add(name: string, role: EditorRole, passwordHash: string): Awaitable<boolean>;
  setPassword(id: number, passwordHash: string): Awaitable<void>;
  setRole(id: number, role: EditorRole): Awaitable<void>;
  remove(id: number): Awaitable<void>;
  admins(): Awaitable<number>;
}

export class EditorRepo implements EditorStore {
  constructor(
    private readonly db: DB,
    private readonly now: () => Date = () => new Date(),
  ) {}

  count(): number {
    return this.db.prepare('SELECT count(*) FROM editors').pluck().get() as number;
  }

  list(): EditorAccount[] {
    return this.db.prepare(`SELECT ${COLS} FROM editors ORDER BY name`).all() as EditorAccount[];
  }

  byName(name: string): EditorAccount | undefined {
    return this.db.prepare(`SELECT ${COLS} FROM editors WHERE name = ?`).get(name) as
      | EditorAccount
      | undefined;
  }

  byId(id: number): EditorAccount | undefined {
    return this.db.prepare(`SELECT ${COLS} FROM editors WHERE id = ?`).get(id) as EditorAccount | undefined;
  }

  /** A new account; false when the name is taken. */
  add(name: string, role: EditorRole, passwordHash: string): boolean {
    const now = this.now().toISOString();
    const r = this.db
      .prepare(
        `INSERT INTO editors (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO NOTHING`,
      )
      .run(name, role, passwordHash, now, now);
    return r.changes === 1;
  }

  setPassword(id: number, passwordHash: string) {
    this.db
      .prepare('UPDATE editors SET password_hash = ?, updated_at = ? WHERE id = ?')
      .run(passwordHash, this.now().toISOString(), id);
  }

  setRole(id: number, role: EditorRole) {
    this.db
      .prepare('UPDATE editors SET role = ?, updated_at = ? WHERE id = ?')
      .run(role, this.now().toISOString(), id);
  }

  remove(id: number) {
    this.db.prepare('DELETE FROM editors WHERE id = ?').run(id);
  }

  admins(): number {
    return this.db.prepare("SELECT count(*) FROM editors WHERE role = 'admin'").pluck().get() as number;
  }
}
