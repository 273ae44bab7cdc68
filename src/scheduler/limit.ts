// A job's time limit, in-process. A hung promise cannot be killed, so a run
// past its limit is told to stop (its AbortSignal), given a short wind-down,
// and then recorded and left behind whether or not its promise ever settles:
// the occurrence's lease is released and the daemon goes on. Stages that can
// hang (the send loop, feed fetches) check the signal so that, in practice,
// they do stop and release their sockets.
import { formatDuration } from './duration.ts';

/** setTimeout's ceiling (about 24.8 days): a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long a job told to stop may take to wind down: a tenth of its limit, 0.5–30 s. */
export const windDownMs = (limitMs: number) => Math.min(30_000, Math.max(500, Math.round(limitMs / 10)));

/** `2.0 s`: elapsed time as the run records state it. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export type Settled<T> = { result: T } | { error: unknown };

/** A promise that never rejects, so leaving it behind cannot end the process with an unhandled rejection. */
export function settle<T>(p: () => Promise<T>): Promise<Settled<T>> {
  return Promise.resolve()
    .then(p)
    .then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
}

/** Resolves `value` after `ms` (clamped to what a timer can wait); cancel() stops the timer. */
export function delay<V>(ms: number, value: V): { promise: Promise<V>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<V>((resolve) => {
    timer = setTimeout(() => resolve(value), Math.min(ms, MAX_TIMER_MS));
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Whether `work` settled within `ms` (for the wind-down after an abort). */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const d = delay(ms, false);
  try {
    return await Promise.race([work.then(() => true), d.promise]);
  } finally {
    d.cancel();
  }
}

export const describeLimit = (limitMs: number) => formatDuration(limitMs);
