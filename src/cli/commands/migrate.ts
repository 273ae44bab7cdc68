import type { Command } from 'commander';
import { action, createContext, globalsOf, printJson, printResult } from '../app.ts';

// `broadsheet migrate` (issue 17): apply the store's pending schema migrations —
// the SQLite file or the PostgreSQL database (under an advisory lock, so hosts
// starting together migrate once). Every command that writes also migrates on
// open; this is the explicit step for a deploy.
export function registerMigrate(program: Command) {
  program
    .command('migrate')
    .description('apply store migrations (SQLite or PostgreSQL); safe to run on several hosts at once')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { parseStoreTarget, displayStore } = await import('../../store/backend.ts');
        const target = parseStoreTarget(ctx.paths.store);
        let from: number;
        let to: number;
        if (target.kind === 'sqlite') {
          const { openStore } = await import('../../store/db.ts');
          const { existsSync } = await import('node:fs');
          const Database = (await import('better-sqlite3')).default;
          from = existsSync(target.file)
            ? (() => {
                const d = new Database(target.file, { readonly: true });
                try {
                  return d.pragma('user_version', { simple: true }) as number;
                } finally {
                  d.close();
                }
              })()
            : 0;
          const db = openStore(target.file);
          to = db.pragma('user_version', { simple: true }) as number;
          db.close();
        } else {
          const { openPgPool } = await import('../../store/pg/pool.ts');
          const { migratePg } = await import('../../store/pg/schema.ts');
          const pool = await openPgPool(target.url, ctx.config.store, 'broadsheet migrate');
          try {
            ({ from, to } = await migratePg(pool, target.url));
          } finally {
            await pool.end();
          }
        }
        const store = displayStore(target);
        if (g.json) printJson({ store, kind: target.kind, from, to, applied: to - from });
        else
          printResult(
            from === to
              ? `migrate: ${store} is up to date (schema version ${to})`
              : `migrate: ${store} schema ${from} → ${to} (${to - from} migration${to - from === 1 ? '' : 's'} applied)`,
          );
        return 0;
      }),
    );
}
