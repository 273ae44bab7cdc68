import type { Command } from 'commander';
import { appSecret } from '../../config/secret.ts';
import { tokenKeys } from '../../delivery/tokens.ts';
import { BroadsheetError } from '../../errors/index.ts';
import { action, createContext, globalsOf, printJson } from '../app.ts';
import { withBackend } from './subscribers.ts';

// `subscribers export <email>` and `subscribers forget <email>` (issue 14): a
// reader's right to see and to erase what the newsroom holds about them.

export function registerPrivacy(sub: Command) {
  sub
    .command('export <email>')
    .description('print everything held about one reader as JSON: profile, consent, sends, events')
    .action(
      action(async (email: string, _opts: object, cmd: Command) => {
        const ctx = createContext(globalsOf(cmd));
        const { exportReaderFrom } = await import('../../store/privacy.ts');
        const data = await withBackend(ctx, (b) => exportReaderFrom(b, email, ctx.clock.now()));
        if (!data) throw new BroadsheetError('SUBSCRIBER_UNKNOWN', { email });
        // JSON either way: this is the document handed to the reader.
        printJson(data);
        return 0;
      }),
    );

  sub
    .command('forget <email>')
    .description(
      'erase a reader: address, name, preferences, consent records; a keyed hash stays on the suppression list',
    )
    .action(
      action(async (email: string, _opts: object, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        const { forgetReaderIn } = await import('../../store/privacy.ts');
        const keys = tokenKeys(appSecret(ctx));
        if (!(await withBackend(ctx, (b) => forgetReaderIn(b, keys, email, ctx.clock.now()))))
          throw new BroadsheetError('SUBSCRIBER_UNKNOWN', { email });
        ctx.logger.info({}, 'reader forgotten');
        if (g.json) printJson({ forgotten: true });
        else
          process.stdout.write(
            'forgotten: personal data erased; the address is suppressed until its owner signs up and confirms again\n',
          );
        return 0;
      }),
    );
}
