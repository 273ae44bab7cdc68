// The missed-run policy, pure: given the occurrences that came due in a span,
// which one runs and which are recorded as skipped (and why).
//
// - Only the latest due occurrence can run, and only if it is at most
//   `windowMs` old; running the same digest three times in a row to "catch
//   up" would help nobody (systemd's Persistent=, anacron and Kubernetes
//   CronJobs coalesce the same way).
// - Every other one is skipped: older than the window ("missed"), or
//   overtaken by a later occurrence that was also due ("superseded").

import { formatLocal } from '../util/zoned.ts';
import { formatDuration } from './duration.ts';
import { occurrencesBetween, type Schedule } from './occurrences.ts';

export interface DuePlan {
  run?: number;
  /** The latest `keep` skipped occurrences, oldest first, with the reason for each. */
  skipped: { at: number; reason: string }[];
  /** All skipped occurrences, including those beyond `keep`. */
  skippedTotal: number;
}

/** An on-time tick is never "missed", whatever catchUp says: node-cron fires within a second. */
export const LATE_TOLERANCE_MS = 60_000;

export function planDue(
  s: Schedule,
  opts: { fromMs: number; nowMs: number; windowMs: number; keep?: number; extra?: number[] },
): DuePlan {
  const keep = opts.keep ?? 100;
  const span = occurrencesBetween(s, opts.fromMs, opts.nowMs, keep + 1);
  const due = [...new Set([...(opts.extra ?? []).filter((t) => t <= opts.nowMs), ...span.last])].sort(
    (a, b) => a - b,
  );
  const total = span.count + due.length - span.last.length;
  const latest = due.at(-1);
  if (latest === undefined) return { skipped: [], skippedTotal: 0 };
  const run = opts.nowMs - latest <= opts.windowMs ? latest : undefined;
  const skipped = due
    .filter((t) => t !== run)
    .slice(-keep)
    .map((at) => ({
      at,
      reason:
        opts.nowMs - at > opts.windowMs
          ? `missed by ${formatDuration(Math.round((opts.nowMs - at) / 1000) * 1000)}, more than the catch-up window of ${formatDuration(opts.windowMs)}`
          : `superseded by the later occurrence ${formatLocal(run ?? latest, s.timezone)}`,
    }));
  return { run, skipped, skippedTotal: total - (run === undefined ? 0 : 1) };
}
