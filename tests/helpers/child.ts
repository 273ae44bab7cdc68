import type { ChildProcess } from 'node:child_process';

// Small pieces the kill-and-restart tests and benches share (send-scale-kill,
// the fan-out tests, bench/fanout.ts, bench/scale-out-check.ts).

/** The child's exit code once it has exited (-1 when a signal ended it); at once if it already has. */
export const exited = (p: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve(p.signalCode ? -1 : p.exitCode);
    p.once('exit', (code, signal) => resolve(signal ? -1 : code));
  });

/**
 * A pause that does not by itself keep the process alive (unref): a script
 * that races it against something else (bench/scale-out-check.ts's
 * `Promise.race([exits, wait(60_000)])`) ends when its work is done instead of
 * sitting out the losing timer. While there is work (children, sockets, IPC,
 * a test runner) the timer fires as before.
 */
export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
