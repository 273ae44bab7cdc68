// startHeartbeat (issue 17): each long-running process — the `schedule`
// daemon, a `worker`, a `serve` replica — keeps one row in process_heartbeats
// with its host, pid, role, start, last beat (the database's clock on
// PostgreSQL), state and a small JSON detail. `status` lists every host's
// processes from it and flags the stale ones; a health endpoint reports 503
// when this process's own beats stop landing.
//
//   const hb = await startHeartbeat(backend, { role: 'worker', intervalMs: 10_000, detail: () => ({ batches }) });
//   …
//   await hb.stop();   // state stopped, timer cleared
//
// A failed beat (store down) is logged and retried at the next interval; it
// never throws into the caller. Beats never overlap: a slow store skips one.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../logger.ts';
import type { Backend } from '../store/backend.ts';
import { type BeatState, type HeartbeatStore, heartbeatsFor, type Role } from './heartbeat-store.ts';

export type { BeatState, Role } from './heartbeat-store.ts';

export interface HeartbeatOptions {
  role: Role;
  /** Unique name of this process (default host:pid:random). */
  instance?: string;
  intervalMs: number;
  /** What the row's detail says at each beat (kept small: it is JSON in a TEXT column). */
  detail?: () => Record<string, unknown>;
  logger?: Pick<Logger, 'warn' | 'error' | 'debug'>;
  /** The clock of a SQLite store's beats (tests with a fake clock); PostgreSQL always uses its own. */
  now?: () => number;
}

export interface Heartbeat {
  readonly instance: string;
  readonly role: Role;
  /** Write a beat now (with a new state, e.g. stopping): resolves when written or failed. */
  beat(state?: BeatState): Promise<boolean>;
  /** ms since the last beat that reached the store (performance clock of this process). */
  sinceLastOk(): number;
  /** The last beat's error, if the last attempt failed. */
  lastError(): unknown;
  /** Final beat (state stopped), then no more. Idempotent. */
  stop(): Promise<void>;
}

export const defaultInstance = () => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

export async function startHeartbeat(backend: Backend, opts: HeartbeatOptions): Promise<Heartbeat> {
  const store: HeartbeatStore = await heartbeatsFor(backend, opts.now);
  const instance = opts.instance ?? defaultInstance();
  const detail = () => {
    try {
      return opts.detail?.() ?? null;
    } catch {
      return null;
    }
  };
  const begin = () =>
    store.begin({
      instance,
      role: opts.role,
      host: hostname(),
      pid: process.pid,
      intervalMs: opts.intervalMs,
      detail: detail(),
    });
  await begin();
  let lastOk = performance.now();
  let lastErr: unknown;
  let state: BeatState = 'running';
  let inflight: Promise<boolean> | undefined;
  let stopped: Promise<void> | undefined;

  const write = async (): Promise<boolean> => {
    try {
      if (!(await store.beat(instance, state, detail()))) await begin();
      lastOk = performance.now();
      lastErr = undefined;
      return true;
    } catch (err) {
      lastErr = err;
      opts.logger?.warn({ err }, `heartbeat of ${opts.role} ${instance} failed; trying again next beat`);
      return false;
    }
  };
  const beat = (next?: BeatState): Promise<boolean> => {
    if (next) state = next;
    if (inflight) return next ? inflight.then(() => beat()) : inflight;
    inflight = write().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
  const timer = setInterval(() => void beat(), opts.intervalMs);
  timer.unref();
  return {
    instance,
    role: opts.role,
    beat,
    sinceLastOk: () => performance.now() - lastOk,
    lastError: () => lastErr,
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        await beat('stopped');
      })();
      return stopped;
    },
  };
}
