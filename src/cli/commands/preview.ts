import type { Command } from 'commander';
import { action, createContext, globalsOf, printJson } from '../app.ts';

// `broadsheet preview`: the digest exactly as one reader would get it (merged,
// per-reader fields filled), written next to the staged digest so an editor
// can open it in a browser. The sample reader has no real address and its
// unsubscribe link (<publicUrl>/u/preview) is not a token: clicking it in the
// preview unsubscribes no one.

export const PREVIEW_READER = 'reader@example.com';
export const PREVIEW_UNSUBSCRIBE_PATH = 'u/preview';

export function registerPreview(program: Command) {
  program
    .command('preview')
    .description('write the digest merged for a sample reader to out/<edition>/digest/preview.html')
    .option('--edition <id>', 'edition id like daily-2025-12-10 (default: the latest day with content)')
    .option('--locale <locale>', 'render as a reader with this locale would get it (default: the edition’s)')
    .option('--open', 'open the file in the default browser (xdg-open/open); never fails the command')
    .action(
      action(async (opts: { edition?: string; locale?: string; open?: boolean }, cmd: Command) => {
        const g = globalsOf(cmd);
        const { LOCALES, supportedLocale } = await import('../../content/subscribers.ts');
        const { BroadsheetError } = await import('../../errors/index.ts');
        const locale = opts.locale === undefined ? undefined : supportedLocale(opts.locale);
        if (opts.locale !== undefined && !locale)
          throw new BroadsheetError('PREVIEW_LOCALE_UNKNOWN', { locale: opts.locale, known: LOCALES });
        const ctx = createContext(g);
        const [{ join }, { loadSendInput }, { mergeRecipient }, { viewOnlineUrl }, { writeFileAtomic }] =
          await Promise.all([
            import('node:path'),
            import('../../delivery/edition.ts'),
            import('../../email/index.ts'),
            import('../../delivery/send.ts'),
            import('../../util/atomic.ts'),
          ]);
        const { rethrowFsError } = await import('../../util/fs-errors.ts');
        const { displayPath } = await import('../../util/paths.ts');
        const input = await loadSendInput(ctx, opts.edition);
        const merged = mergeRecipient(
          input.digest,
          {
            email: PREVIEW_READER,
            locale,
            unsubscribeUrl: new URL(PREVIEW_UNSUBSCRIBE_PATH, ctx.config.publicUrl).href,
            viewOnlineUrl: viewOnlineUrl(ctx, input.editionId),
          },
          { defaultName: ctx.config.email.defaultName },
        );
        const file = join(
          ctx.paths.out,
          input.editionId,
          'digest',
          locale ? `preview-${locale}.html` : 'preview.html',
        );
        try {
          await writeFileAtomic(file, merged.html);
        } catch (err) {
          rethrowFsError(err, file);
        }
        const opened = opts.open ? await openInBrowser(file) : undefined;
        if (g.json)
          printJson({
            edition: input.editionId,
            locale: locale ?? null,
            file,
            subject: merged.subject,
            opened: opened ?? null,
          });
        else {
          process.stdout.write(`${displayPath(file)}\n`);
          if (opened && !opened.ok)
            process.stderr.write(`could not open it (${opened.detail}): open the file above in a browser\n`);
        }
        return 0;
      }),
    );
}

/**
 * Hand the file to the desktop's opener and return at once (the browser is
 * not waited for). No opener, no desktop: a note, never a failure.
 */
async function openInBrowser(file: string): Promise<{ ok: boolean; command: string; detail?: string }> {
  const { spawn } = await import('node:child_process');
  const [command, ...args] =
    process.platform === 'darwin'
      ? ['open', file]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '""', file]
        : ['xdg-open', file];
  return new Promise((resolve) => {
    try {
      const child = spawn(command!, args, { detached: true, stdio: 'ignore' });
      child.once('error', (err: NodeJS.ErrnoException) =>
        resolve({ ok: false, command: command!, detail: `${command}: ${err.code ?? err.message}` }),
      );
      child.once('spawn', () => {
        child.unref();
        resolve({ ok: true, command: command! });
      });
    } catch (err) {
      resolve({ ok: false, command: command!, detail: (err as Error).message });
    }
  });
}
