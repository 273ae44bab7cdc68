import type { Command } from 'commander';
import type { Context } from '../../context.ts';
import { BroadsheetError, UsageError } from '../../errors/index.ts';
import type { EditorRole, EditorStore } from '../../store/editors.ts';
import type { SessionRow, SessionStore } from '../../store/sessions.ts';
import { action, createContext, globalsOf, printJson } from '../app.ts';
import { newPassword } from './editors-password.ts';

// `broadsheet editors …`: the review app's accounts and sessions. Whoever can
// run this can already read the store, so it needs no sign-in of its own.
// On a PostgreSQL store (issue 17) it changes the accounts and sessions every
// `serve` replica reads: a revoke here ends the session on all of them at once.

interface Accounts {
  editors: EditorStore;
  sessions: SessionStore;
}
interface Repos extends Accounts {
  /** One transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: serialised by an advisory lock). */
  transaction: <T>(fn: (r: Accounts) => Promise<T>) => Promise<T>;
}

async function withRepos<T>(ctx: Context, fn: (r: Repos) => T | Promise<T>): Promise<T> {
  const { openBackend, closeBackend, parseStoreTarget } = await import('../../store/backend.ts');
  const b = await openBackend(parseStoreTarget(ctx.paths.store), ctx.config.store, {
    applicationName: 'broadsheet editors',
  });
  try {
    if (b.kind === 'sqlite') {
      const { EditorRepo } = await import('../../store/editors.ts');
      const { SessionRepo } = await import('../../store/sessions.ts');
      const db = b.db;
      const r = {
        editors: new EditorRepo(db, () => ctx.clock.now()),
        sessions: new SessionRepo(db, () => ctx.clock.now().getTime()),
      };
      return await fn({
        ...r,
        // The SQLite repositories answer synchronously: nothing else runs on this connection in between.
        transaction: async (f) => {
          db.exec('BEGIN IMMEDIATE');
          try {
            const out = await f(r);
            db.exec('COMMIT');
            return out;
          } catch (err) {
            if (db.inTransaction) db.exec('ROLLBACK');
            throw err;
          }
        },
      });
    }
    const { PgEditors } = await import('../../store/pg/editors.ts');
    const { PgSessions } = await import('../../store/pg/sessions.ts');
    const { withTransaction, pgError } = await import('../../store/pg/pool.ts');
    const pool = b.pool;
    try {
      return await fn({
        editors: new PgEditors(pool),
        sessions: new PgSessions(pool),
        transaction: (f) =>
          withTransaction(pool, async (c) => {
            // Two hosts changing accounts at once (the last admin check) take turns.
            await c.query("SELECT pg_advisory_xact_lock(hashtext('broadsheet:editors'))");
            return f({ editors: new PgEditors(c), sessions: new PgSessions(c) });
          }),
      });
    } catch (err) {
      throw pgError(err, b.url);
    }
  } finally {
    await closeBackend(b);
  }
}

const ROLES = ['editor', 'admin'];
function roleOf(v: string | undefined): EditorRole | undefined {
  if (v === undefined) return undefined;
  if (!ROLES.includes(v)) throw new UsageError(`--role must be editor or admin (got "${v}")`);
  return v as EditorRole;
}

async function nameOf(raw: string): Promise<string> {
  const { cleanEditorName } = await import('../../review/auth.ts');
  const name = cleanEditorName(raw);
  if (!name) throw new BroadsheetError('EDITOR_NAME_INVALID', { name: raw });
  return name;
}

async function checkedPassword(opts: { passwordStdin?: boolean }, who: string) {
  const { MIN_PASSWORD_LENGTH, hashPassword } = await import('../../review/password.ts');
  const pw = await newPassword(opts, who);
  const length = [...pw].length;
  if (length < MIN_PASSWORD_LENGTH)
    throw new BroadsheetError('EDITOR_PASSWORD_WEAK', { min: MIN_PASSWORD_LENGTH, length });
  return hashPassword(pw);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const sessionJson = (s: SessionRow, now: number) => ({
  id: s.id,
  editor: s.editorName,
  role: s.role,
  bootstrap: s.bootstrapTag !== null,
  createdAt: iso(s.createdAt),
  lastSeenAt: iso(s.lastSeenAt),
  expiresAt: iso(s.expiresAt),
  ipHash: s.ipHash,
  userAgent: s.userAgent,
  state: s.revokedAt !== null ? 'revoked' : s.expiresAt <= now ? 'expired' : 'live',
  revokedAt: iso(s.revokedAt),
  revokedReason: s.revokedReason,
});

export function registerEditors(program: Command) {
  const ed = program
    .command('editors')
    .description("the review app's editor accounts (roles editor, admin) and their sign-in sessions");
  const out = (cmd: Command, json: unknown, text: string) => {
    if (globalsOf(cmd).json) printJson(json);
    else process.stdout.write(`${text}\n`);
  };

  ed.command('add <name>')
    .description('create an account; the password is prompted for (or read with --password-stdin)')
    .option('--role <role>', 'editor | admin (default: admin for the first account, editor after)')
    .option('--password-stdin', 'read the password from stdin (for scripts)')
    .action(
      action(async (raw: string, opts: { role?: string; passwordStdin?: boolean }, cmd: Command) => {
        const ctx = createContext(globalsOf(cmd));
        const name = await nameOf(raw);
        let role = roleOf(opts.role);
        const taken = await withRepos(ctx, async (r) => (await r.editors.byName(name)) !== undefined);
        if (taken) throw new BroadsheetError('EDITOR_EXISTS', { name });
        const hash = await checkedPassword(opts, name);
        const res = await withRepos(ctx, (r) =>
          r.transaction(async (t) => {
            const first = (await t.editors.count()) === 0;
            role ??= first ? 'admin' : 'editor';
            if (!(await t.editors.add(name, role, hash)))
              throw new BroadsheetError('EDITOR_EXISTS', { name });
            // The shared bootstrap password stops signing in now; end its sessions visibly too.
            const ended = first ? await t.sessions.revokeBootstrap('an editor account now exists') : 0;
            return { first, ended, admins: await t.editors.admins() };
          }),
        );
        ctx.logger.info({ editor: name, role }, 'editor account added');
        const notes = [
          res.first
            ? 'first account: BROADSHEET_EDITOR_PASSWORD, if set, no longer signs anyone in' +
              (res.ended ? ` (${res.ended} bootstrap session(s) ended)` : '')
            : '',
          res.admins === 0 ? 'warning: no account is admin, so nobody can publish from the app' : '',
        ].filter(Boolean);
        out(
          cmd,
          { name, role, bootstrapSessionsEnded: res.ended },
          [`added ${name} (${role})`, ...notes].join('\n'),
        );
        return 0;
      }),
    );

  ed.command('passwd <name>')
    .description("set an editor's password; their sessions end (they sign in again)")
    .option('--password-stdin', 'read the password from stdin (for scripts)')
    .action(
      action(async (raw: string, opts: { passwordStdin?: boolean }, cmd: Command) => {
        const ctx = createContext(globalsOf(cmd));
        const name = await nameOf(raw);
        const known = await withRepos(ctx, (r) => r.editors.byName(name));
        if (!known) throw new BroadsheetError('EDITOR_UNKNOWN', { name });
        const hash = await checkedPassword(opts, known.name);
        const ended = await withRepos(ctx, (r) =>
          r.transaction(async (t) => {
            const a = await t.editors.byName(name);
            if (!a) throw new BroadsheetError('EDITOR_UNKNOWN', { name });
            await t.editors.setPassword(a.id, hash);
            return t.sessions.revokeEditor(a.id, 'password changed');
          }),
        );
        ctx.logger.info({ editor: known.name, sessionsEnded: ended }, 'editor password changed');
        out(
          cmd,
          { name: known.name, sessionsEnded: ended },
          `password changed for ${known.name}; ${ended} session(s) ended`,
        );
        return 0;
      }),
    );

  ed.command('role <name> <role>')
    .description('make an editor an admin, or an admin an editor (applies to open sessions at once)')
    .action(
      action(async (raw: string, rawRole: string, _opts: object, cmd: Command) => {
        const ctx = createContext(globalsOf(cmd));
        const name = await nameOf(raw);
        const role = roleOf(rawRole)!;
        const a = await withRepos(ctx, (r) =>
          r.transaction(async (t) => {
            const a = await t.editors.byName(name);
            if (!a) throw new BroadsheetError('EDITOR_UNKNOWN', { name });
            const count = await t.editors.count();
            if (a.role === 'admin' && role === 'editor' && (await t.editors.admins()) === 1 && count > 1)
              throw new BroadsheetError('EDITOR_LAST_ADMIN', { name: a.name, others: count - 1 });
            await t.editors.setRole(a.id, role);
            return a;
          }),
        );
        ctx.logger.info({ editor: a.name, role }, 'editor role changed');
        out(cmd, { name: a.name, role }, `${a.name} is now ${role}`);
        return 0;
      }),
    );

  ed.command('remove <name>')
    .description('delete an account; its sessions end at once')
    .action(
      action(async (raw: string, _opts: object, cmd: Command) => {
        const ctx = createContext(globalsOf(cmd));
        const name = await nameOf(raw);
        const res = await withRepos(ctx, (r) =>
          r.transaction(async (t) => {
            const a = await t.editors.byName(name);
            if (!a) throw new BroadsheetError('EDITOR_UNKNOWN', { name });
            const others = (await t.editors.count()) - 1;
            if (a.role === 'admin' && (await t.editors.admins()) === 1 && others > 0)
              throw new BroadsheetError('EDITOR_LAST_ADMIN', { name: a.name, others });
            const ended = await t.sessions.revokeEditor(a.id, 'editor removed');
            await t.editors.remove(a.id);
            return { name: a.name, ended, left: others };
          }),
        );
        ctx.logger.info({ editor: res.name, sessionsEnded: res.ended }, 'editor account removed');
        out(
          cmd,
          { name: res.name, sessionsEnded: res.ended },
          `removed ${res.name}; ${res.ended} session(s) ended` +
            (res.left === 0 ? '\nno accounts left: BROADSHEET_EDITOR_PASSWORD (if set) signs in again' : ''),
        );
        return 0;
      }),
    );

  ed.command('list')
    .description('list accounts with their role and live sessions')
    .action(
      action(async (_opts: object, cmd: Command) => {
        const ctx = createContext(globalsOf(cmd));
        const rows = await withRepos(ctx, async (r) => {
          const live = await r.sessions.list();
          return (await r.editors.list()).map((a) => ({
            name: a.name,
            role: a.role,
            createdAt: a.createdAt,
            updatedAt: a.updatedAt,
            sessions: live.filter((s) => s.editorId === a.id).length,
          }));
        });
        out(
          cmd,
          rows,
          [
            ...rows.map((a) => `${a.name}\t${a.role}\t${a.sessions} session(s)\tsince ${a.createdAt}`),
            `${rows.length} editor(s)`,
          ].join('\n'),
        );
        return 0;
      }),
    );

  ed.command('sessions')
    .description('list live sign-in sessions (--all: also signed-out, revoked and expired ones)')
    .option('--all', 'include ended sessions (kept 30 days)')
    .action(
      action(async (opts: { all?: boolean }, cmd: Command) => {
        const ctx = createContext(globalsOf(cmd));
        const now = ctx.clock.now().getTime();
        const rows = await withRepos(ctx, async (r) =>
          (await r.sessions.list({ all: opts.all })).map((s) => sessionJson(s, now)),
        );
        out(
          cmd,
          rows,
          [
            ...rows.map(
              (s) =>
                `${s.id}\t${s.editor}${s.bootstrap ? ' (bootstrap)' : ''}\t${s.role}\t${s.state}\t` +
                `created ${s.createdAt}\tlast seen ${s.lastSeenAt}\texpires ${s.expiresAt}\tip ${s.ipHash ?? '-'}\t${s.userAgent ?? '-'}` +
                (s.revokedReason ? `\t(${s.revokedReason})` : ''),
            ),
            `${rows.length} session(s)`,
          ].join('\n'),
        );
        return 0;
      }),
    );

  ed.command('revoke [session-id]')
    .description(
      'end one session at once (id from `editors sessions`), every session of one editor (--editor), or every session (--all)',
    )
    .option('--editor <name>', 'end every session of this editor')
    .option('--all', 'sign everyone out (e.g. after a leaked cookie or secret)')
    .action(
      action(async (id: string | undefined, opts: { editor?: string; all?: boolean }, cmd: Command) => {
        if ([id, opts.editor, opts.all].filter(Boolean).length !== 1)
          throw new UsageError('give one of: a session id, --editor NAME, --all');
        const ctx = createContext(globalsOf(cmd));
        if (opts.all) {
          const n = await withRepos(ctx, (r) =>
            r.sessions.revokeAll('revoked with `broadsheet editors revoke --all`'),
          );
          ctx.logger.info({ sessionsEnded: n }, 'all sessions revoked');
          out(cmd, { sessionsEnded: n }, `revoked ${n} session(s)`);
          return 0;
        }
        if (id) {
          const ok = await withRepos(ctx, (r) =>
            r.sessions.revoke(id, 'revoked with `broadsheet editors revoke`'),
          );
          if (!ok) throw new BroadsheetError('SESSION_UNKNOWN', { id });
          ctx.logger.info({ session: id }, 'session revoked');
          out(cmd, { revoked: [id] }, `revoked session ${id}`);
          return 0;
        }
        const name = await nameOf(opts.editor!);
        const n = await withRepos(ctx, async (r) => {
          const a = await r.editors.byName(name);
          if (!a) throw new BroadsheetError('EDITOR_UNKNOWN', { name });
          return r.sessions.revokeEditor(a.id, 'revoked with `broadsheet editors revoke --editor`');
        });
        ctx.logger.info({ editor: name, sessionsEnded: n }, 'sessions revoked');
        out(cmd, { editor: name, sessionsEnded: n }, `revoked ${n} session(s) of ${name}`);
        return 0;
      }),
    );
}
