import type { Context } from '../context.ts';
import { type ProgressBar, progressBar } from '../progress.ts';
import type { Progress } from './send.ts';

/**
 * A progress bar on a terminal (stderr); otherwise a JSON log line at most
 * once a second and at the end, so cron and systemd logs stay readable.
 */
export function progressReporter(ctx: Context, opts: { tty: boolean; label: string }) {
  if (opts.tty) {
    let bar: ProgressBar | undefined; // started on the first report: the total is known then
    return {
      update: (p: Progress) => {
        bar ??= progressBar(opts.label, p.total);
        bar.update(p.done, `sent ${p.sent} failed ${p.failed} deferred ${p.deferred} retried ${p.retried}`);
      },
      stop: () => bar?.stop(),
    };
  }
  let last = 0;
  return {
    update: (p: Progress) => {
      const now = Date.now();
      if (now - last < 1000 && p.done !== p.total) return;
      last = now;
      ctx.logger.info({ progress: p }, `${opts.label}: ${p.done}/${p.total}`);
    },
    stop: () => {},
  };
}
