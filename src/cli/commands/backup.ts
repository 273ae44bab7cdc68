import { resolve } from 'node:path';
import type { Command } from 'commander';
import { action, createContext, globalsOf, printJson } from '../app.ts';

export function registerBackup(program: Command) {
  program
    .command('backup <file>')
    .description('copy the store to <file> with SQLite’s online backup (safe while the daemon runs)')
    .option('--force', 'replace <file> if it exists')
    .addHelpText(
      'after',
      '\nThe copy is checked (integrity_check) and written under a temp name, then renamed: a failed\n' +
        'backup leaves nothing at <file>. Restore: README.md § Operations → Backing up the store.',
    )
    .action(
      action(async (file: string, opts: { force?: boolean }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { backupStore } = await import('../../store/backup.ts');
        const r = await backupStore(ctx.paths.store, resolve(file), { force: opts.force });
        if (g.json) printJson(r);
        else {
          const total = Object.values(r.rows).reduce((a, b) => a + b, 0);
          process.stdout.write(
            `backed up ${r.store} → ${r.file} (${r.bytes.toLocaleString('en')} bytes, ${total.toLocaleString('en')} rows in ${Object.keys(r.rows).length} tables, integrity ok)\n`,
          );
        }
        return 0;
      }),
    );
}
