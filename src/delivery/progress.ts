import cliProgress from 'cli-progress';
import type { Context } from '../context.ts';
import type { Progress } from './send.ts';

/**
 * A progress bar on a terminal (stderr); otherwise a JSON log line at most
 * once a second and at the end, so cron and systemd logs stay readable.
 */
export function progressReporter(ctx: Context, opts: { tty: boolean; label: string }) {
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${opts.label} [{bar}] {value}/{total} | sent {sent} failed {failed} deferred {deferred} retried {retried} | {eta_formatted}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update: (p: Progress) => {
        if (!started) {
          bar.start(p.total, 0, { sent: 0, failed: 0, deferred: 0, retried: 0 });
          started = true;
        }
        bar.update(p.done, { sent: p.sent, failed: p.failed, deferred: p.deferred, retried: p.retried });
      },
      stop: () => {
        if (started) bar.stop();
      },
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
