import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';
import { colorEnabled } from './log-format.ts';

// cli-progress (CommonJS) is required when a bar is drawn, not when the logger
// that writes above bars loads: most commands never draw one (issue 16).
const requireCjs = createRequire(import.meta.url);

// The terminal progress bar for cards and sends. cli-progress draws it; the
// numbers are ours: its own ETA comes from a short buffer of the latest
// updates, so the first items (worker start-up, connection set-up) read as
// "4m45s" for a 7-second job, or as Infinity/NaN. Here the rate counts from
// the first finished item, and rate and ETA show "–" until there is half a
// second of steady work to measure.

export interface Rate {
  /** Items per second, or undefined while there is too little to measure. */
  perSecond: number | undefined;
  /** Seconds left, or undefined with the rate. */
  etaSeconds: number | undefined;
}

/** A rate meter: feed it (done, now in ms); ask it for the rate. */
export function rateMeter(total: number, minWindowMs = 500) {
  let first: { done: number; at: number } | undefined;
  let last = { done: 0, at: 0 };
  return {
    update(done: number, now = Date.now()) {
      if (!first && done > 0) first = { done, at: now };
      last = { done, at: now };
    },
    rate(now = last.at): Rate {
      if (!first) return { perSecond: undefined, etaSeconds: undefined };
      const ms = now - first.at;
      const n = last.done - first.done;
      if (ms < minWindowMs || n <= 0) return { perSecond: undefined, etaSeconds: undefined };
      const perSecond = (n * 1000) / ms;
      return { perSecond, etaSeconds: Math.max(0, total - last.done) / perSecond };
    },
  };
}

export const formatRate = (r: number | undefined) =>
  r === undefined ? '–' : r >= 10 ? `${Math.round(r)}/s` : `${r.toFixed(1)}/s`;

export function formatEta(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '–';
  const t = Math.ceil(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** The bar being drawn now, if any: log lines go above it (see writeAboveBar). */
let drawing: cliProgress.SingleBar | undefined;

/**
 * Write a terminal line while a bar may be drawn: clear the bar's line, write,
 * draw the bar again below. Without this a warning in the middle of a send
 * lands on the end of the bar's line.
 */
export function writeAboveBar(write: () => void) {
  const bar = drawing;
  if (!bar) return write();
  process.stderr.write('\r\u001b[2K');
  write();
  // cli-progress saved the cursor (ESC 7) where the bar began and restores it
  // (ESC 8) on stop: save again on the bar's new line, or the restore would
  // jump back up and the next lines would overwrite the ones just written.
  process.stderr.write('\u001b7');
  (bar as unknown as { lastDrawnString: string }).lastDrawnString = ''; // force the redraw
  bar.render();
}

export interface ProgressBar {
  update(done: number, detail?: string): void;
  stop(): void;
}

/** A bar on stderr: `label [████░░░░] 12/234 35/s ETA 6s <detail>`. */
export function progressBar(label: string, total: number, width = 30): ProgressBar {
  const colors = colorEnabled(Boolean(process.stderr.isTTY));
  const meter = rateMeter(total);
  let detail = '';
  const { SingleBar } = requireCjs('cli-progress') as typeof cliProgress;
  const bar = new SingleBar({
    stream: process.stderr,
    hideCursor: true,
    format: (_opts, params) => {
      const filled = total > 0 ? Math.round((Math.min(params.value, total) / total) * width) : width;
      const done = '█'.repeat(filled);
      const { perSecond, etaSeconds } = meter.rate(Date.now());
      const eta = params.value >= total ? 'done' : `ETA ${formatEta(etaSeconds)}`;
      return `${label} [${colors && done ? `\u001b[32m${done}\u001b[0m` : done}${'░'.repeat(width - filled)}] ${params.value}/${total} ${formatRate(perSecond)} ${eta}${detail ? ` | ${detail}` : ''}`;
    },
  });
  bar.start(total, 0);
  drawing = bar;
  return {
    update(done, d) {
      meter.update(done);
      if (d !== undefined) detail = d;
      bar.update(done);
    },
    stop: () => {
      bar.stop();
      if (drawing === bar) drawing = undefined;
    },
  };
}
