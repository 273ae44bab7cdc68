import type { Command } from 'commander';
import { BroadsheetError } from '../../errors/index.ts';
import { action, createContext, globalsOf, printJson } from '../app.ts';

export function registerPublish(program: Command) {
  program
    .command('publish')
    .description(
      'run the publish queue: send approved posts that are due to the configured publishers and social platforms',
    )
    .option('--check', "check each social platform's credentials with its who-am-I call; posts nothing")
    .action(
      action(async (opts: { check?: boolean }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        if (opts.check) {
          const { checkSocial } = await import('../../review/social.ts');
          const r = await checkSocial(ctx);
          if (g.json) printJson(r);
          else
            for (const p of r)
              process.stdout.write(
                `${p.label.padEnd(10)} ${p.state.padEnd(8)} ${
                  p.state === 'ready'
                    ? p.account
                    : p.state === 'missing'
                      ? `set ${p.variables.join(', ')}`
                      : p.message
                }\n`,
              );
          // Failing credentials would fail every post alike: a config-class error (exit 2).
          const failing = r.filter((p) => p.state === 'failing').map((p) => p.label);
          if (failing.length) throw new BroadsheetError('PUBLISH_CHECK_FAILED', { platforms: failing });
          return 0;
        }
        const { runPublishQueue } = await import('../../review/publish.ts');
        const s = await runPublishQueue(ctx);
        if (g.json) printJson(s);
        else
          process.stdout.write(
            `published ${s.published}, deferred ${s.deferred}, failed ${s.failed}${s.recovered ? `, resumed ${s.recovered}` : ''}${s.skipped ? `, ${s.skipped} waiting for a publisher not configured` : ''}\n`,
          );
        return s.failed || s.deferred ? 1 : 0;
      }),
    );
}
