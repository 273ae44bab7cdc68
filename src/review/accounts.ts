import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from '../context.ts';
import type { EditorRole, EditorStore } from '../store/editors.ts';
import type { SessionStore } from '../store/sessions.ts';
import {
  cleanEditorName,
  ipHash,
  newSessionToken,
  parseSessionCookie,
  safeEqual,
  verifierHash,
} from './auth.ts';
import { dummyHash, verifyPassword } from './password.ts';

// Who may sign in, and as whom. Editor accounts (`broadsheet editors add`) sign
// in with their name and password. Until the first account exists,
// BROADSHEET_EDITOR_PASSWORD signs anyone in as a bootstrap admin under the name
// they type — so a fresh install works — and every such sign-in is logged as a
// warning. Once an account exists the shared password no longer signs anyone
// in and its sessions end.

export interface Editor {
  name: string;
  /** The session id (listed by `editors sessions`, the key of the CSRF token). */
  sid: string;
  role: EditorRole;
  exp: number;
  /** Signed in with BROADSHEET_EDITOR_PASSWORD, not an account. */
  bootstrap: boolean;
}

export type SignInResult =
  | { ok: true; editor: Editor; cookie: string }
  | { ok: false; reason: 'bad-password' | 'bad-name' | 'disabled' };

export const BOOTSTRAP_WARNING =
  'signed in with BROADSHEET_EDITOR_PASSWORD (bootstrap admin): create accounts with `broadsheet editors add NAME --role admin`; the shared password stops working once one exists';

export class EditorAuth {
  readonly editors: EditorStore;
  readonly sessions: SessionStore;

  // On a shared store (issue 17) every answer comes from the database, never a
  // cache in this process: a sign-out or revoke on one replica ends the
  // session on every replica at once.
  constructor(
    private readonly ctx: Context,
    stores: { editors: EditorStore; sessions: SessionStore },
    private readonly secret: Buffer,
  ) {
    this.editors = stores.editors;
    this.sessions = stores.sessions;
  }

  private get envPassword() {
    return this.ctx.secrets.editorPassword;
  }

  /** A tag of the shared password: a bootstrap session ends when the password changes. */
  private bootstrapTag(password: string) {
    return createHmac('sha256', this.secret).update(`bootstrap:${password}`).digest('base64url').slice(0, 22);
  }

  /** Whether BROADSHEET_EDITOR_PASSWORD signs in: set, and no account exists yet. */
  async bootstrapOpen(): Promise<boolean> {
    return Boolean(this.envPassword) && (await this.editors.count()) === 0;
  }

  /** Nobody can sign in: no account and no shared password. */
  async closed(): Promise<boolean> {
    return !this.envPassword && (await this.editors.count()) === 0;
  }

  /** The warnings `serve` logs at start. */
  async startupWarnings(): Promise<string[]> {
    const accounts = await this.editors.count();
    if (accounts === 0 && this.envPassword)
      return [
        'no editor accounts yet: BROADSHEET_EDITOR_PASSWORD signs editors in as a bootstrap admin; create accounts with `broadsheet editors add NAME --role admin`',
      ];
    if (accounts === 0)
      return [
        'no editor accounts and BROADSHEET_EDITOR_PASSWORD is not set: editors cannot sign in (unsubscribe and archive still work); create one with `broadsheet editors add NAME --role admin`',
      ];
    if (this.envPassword)
      return [
        `BROADSHEET_EDITOR_PASSWORD is set but no longer signs anyone in: ${accounts} editor account(s) exist; unset it`,
      ];
    return [];
  }

  async signIn(
    rawName: unknown,
    password: unknown,
    meta: { client: string; userAgent?: string },
  ): Promise<SignInResult> {
    if (await this.closed()) return { ok: false, reason: 'disabled' };
    const pw = typeof password === 'string' ? password : '';
    const name = cleanEditorName(rawName);
    if (await this.bootstrapOpen()) {
      if (!safeEqual(pw, this.envPassword!)) return { ok: false, reason: 'bad-password' };
      if (!name) return { ok: false, reason: 'bad-name' };
      this.ctx.logger.warn({ editor: name }, BOOTSTRAP_WARNING);
      return this.start({ name, role: 'admin', editorId: null, bootstrapTag: this.bootstrapTag(pw) }, meta);
    }
    const account = name ? await this.editors.byName(name) : undefined;
    // An unknown name costs the same scrypt as a known one: timing does not tell names apart.
    const ok = await verifyPassword(pw, account?.passwordHash ?? (await dummyHash()));
    if (!account || !ok) {
      if (this.envPassword && pw && safeEqual(pw, this.envPassword))
        this.ctx.logger.warn(
          'a sign-in used BROADSHEET_EDITOR_PASSWORD, which no longer signs anyone in: editor accounts exist (`broadsheet editors list`); unset it',
        );
      return { ok: false, reason: 'bad-password' };
    }
    return this.start(
      { name: account.name, role: account.role, editorId: account.id, bootstrapTag: null },
      meta,
    );
  }

  private async start(
    who: { name: string; role: EditorRole; editorId: number | null; bootstrapTag: string | null },
    meta: { client: string; userAgent?: string },
  ): Promise<SignInResult> {
    const t = newSessionToken();
    const exp = await this.sessions.create({
      id: t.id,
      verifierHash: verifierHash(t.verifier),
      editorId: who.editorId,
      editorName: who.name,
      role: who.role,
      bootstrapTag: who.bootstrapTag,
      ttlMs: this.ctx.config.review.session.hours * 3600_000,
      ipHash: ipHash(this.secret, meta.client),
      userAgent: meta.userAgent?.slice(0, 200) ?? null,
    });
    return {
      ok: true,
      cookie: t.cookie,
      editor: { name: who.name, sid: t.id, role: who.role, exp, bootstrap: who.bootstrapTag !== null },
    };
  }

  /** The editor a session cookie stands for, if it is still live. */
  async resolve(cookie: string | undefined): Promise<Editor | undefined> {
    const c = parseSessionCookie(cookie);
    const row = c && (await this.sessions.live(c.id));
    if (!c || !row) return undefined;
    const want = Buffer.from(row.verifierHash, 'hex');
    const got = Buffer.from(verifierHash(c.verifier), 'hex');
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    let name = row.editorName;
    let role = row.role;
    if (row.bootstrapTag !== null) {
      // The shared password changed, was unset, or an account now exists: this session is over.
      if (
        !(await this.bootstrapOpen()) ||
        !safeEqual(row.bootstrapTag, this.bootstrapTag(this.envPassword!))
      ) {
        await this.sessions.revoke(row.id, 'bootstrap password no longer valid');
        return undefined;
      }
    } else {
      const account = row.editorId === null ? undefined : await this.editors.byId(row.editorId);
      if (!account) {
        await this.sessions.revoke(row.id, 'editor removed');
        return undefined;
      }
      // A role change applies at once, not at the next sign-in.
      name = account.name;
      role = account.role;
    }
    await this.sessions.touch(row.id, row.lastSeenAt);
    return { name, sid: row.id, role, exp: row.expiresAt, bootstrap: row.bootstrapTag !== null };
  }

  async signOut(sid: string): Promise<void> {
    await this.sessions.revoke(sid, 'signed out');
  }
}
