// The health endpoint of a daemon or worker (issue 17): GET /healthz answers
// 200 with a JSON report when the process is healthy, 503 with the reason when
// its store does not answer or its heartbeat has stopped landing. A load
// balancer or systemd watchdog script polls it. Every check is bounded: a
// store that hangs makes the answer a 503 after `timeoutMs`, never a hung
// request.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BroadsheetError } from '../errors/index.ts';
import type { Heartbeat } from './heartbeat.ts';
import type { HeartbeatStore } from './heartbeat-store.ts';

export interface HealthReport {
  ok: boolean;
  /** Why not ok (shown in the 503 body). */
  reason?: string;
  [k: string]: unknown;
}

export interface HealthServer {
  port: number;
  host: string;
  close(): Promise<void>;
}

/** Resolve with `p`, or with `fallback()` after `ms` (the timer never keeps the process up). */
export function within<T>(p: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const cut = new Promise<T>((resolve) => {
    t = setTimeout(() => resolve(fallback()), ms);
    t.unref();
  });
  return Promise.race([p, cut]).finally(() => clearTimeout(t));
}

export async function startHealthServer(opts: {
  host: string;
  port: number;
  check: () => Promise<HealthReport>;
  /** The whole check answers within this (default 3 s): past it, 503 "health check timed out". */
  timeoutMs?: number;
}): Promise<HealthServer> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":"not found: try GET /healthz"}');
      return;
    }
    void within(
      opts
        .check()
        .catch(
          (err): HealthReport => ({ ok: false, reason: `check failed: ${(err as Error)?.message ?? err}` }),
        ),
      timeoutMs,
      () => ({ ok: false, reason: `health check timed out after ${timeoutMs} ms` }),
    ).then((r) => {
      const body = JSON.stringify(r);
      res
        .writeHead(r.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(req.method === 'HEAD' ? undefined : body);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
          ? new BroadsheetError(
              'OPS_HEALTH_LISTEN',
              { host: opts.host, port: opts.port, detail: err.code },
              { cause: err },
            )
          : err,
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    port: addr.port,
    host: opts.host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The usual check of a long-running process: its store answers (within
 * `storeTimeoutMs`), and its own heartbeat reached the store within
 * `staleBeats` intervals. `extra` adds the process's own fields.
 */
export function processCheck(opts: {
  store: HeartbeatStore;
  heartbeat: Heartbeat;
  intervalMs: number;
  staleBeats: number;
  storeTimeoutMs: number;
  extra?: () => Record<string, unknown>;
}): () => Promise<HealthReport> {
  return async () => {
    const base = {
      role: opts.heartbeat.role,
      instance: opts.heartbeat.instance,
      pid: process.pid,
      ...opts.extra?.(),
    };
    const t0 = performance.now();
    const store = await within(
      Promise.resolve()
        .then(() => opts.store.ping())
        .then(
          () => undefined,
          (err: Error) => `the store does not answer: ${err?.message ?? err}`,
        ),
      opts.storeTimeoutMs,
      () => `the store did not answer within ${opts.storeTimeoutMs} ms`,
    );
    const storeMs = Math.round(performance.now() - t0);
    if (store) return { ok: false, reason: store, ...base, storeMs };
    const since = Math.round(opts.heartbeat.sinceLastOk());
    if (since > opts.staleBeats * opts.intervalMs) {
      const e = opts.heartbeat.lastError() as Error | undefined;
      return {
        ok: false,
        reason: `heartbeat is stale: last written ${since} ms ago (more than ${opts.staleBeats} × ${opts.intervalMs} ms)${e ? `: ${e.message}` : ''}`,
        ...base,
        storeMs,
        heartbeatAgeMs: since,
      };
    }
    return { ok: true, ...base, storeMs, heartbeatAgeMs: since };
  };
}
