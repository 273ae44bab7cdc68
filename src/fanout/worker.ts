import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { closeBackend, displayStore, isPgUrl, openBackend } from '../store/backend.ts';
import type { WorkerConfig } from './config.ts';
import { startBoss } from './queue.ts';
import { workerName } from './send-pg.ts';
import { newStats, type WorkStats, workBatches } from './work.ts';

// `broadsheet worker`: the process around workBatches — the store, the queue,
// the heartbeat and health endpoint (src/ops/), and the signals.

const intOption = (option: string, value: string | undefined, min: number, max: number) => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new BroadsheetError('WORKER_OPTION_INVALID', {
      option,
      value,
      expected: `a whole number from ${min} to ${max}`,
    });
  return n;
};

export async function runWorker(
  ctx: Context,
  opts: { concurrency?: string; healthPort?: string; signal?: AbortSignal },
): Promise<WorkStats> {
  const { logger } = ctx;
  if (!isPgUrl(ctx.paths.store))
    throw new BroadsheetError('WORKER_NEEDS_POSTGRES', {
      store: displayStore({ kind: 'sqlite', file: ctx.paths.store }),
    });
  const cfg: WorkerConfig = {
    ...ctx.config.worker,
    concurrency: intOption('--concurrency', opts.concurrency, 1, 50) ?? ctx.config.worker.concurrency,
    healthPort: intOption('--health-port', opts.healthPort, 0, 65_535) ?? ctx.config.worker.healthPort,
  };
  const stop = new AbortController();
  opts.signal?.addEventListener('abort', () => stop.abort(opts.signal?.reason), { once: true });
  const onSignal = (sig: NodeJS.Signals) => {
    logger.info({ signal: sig }, `${sig}: finishing the messages in flight, giving the batches back`);
    stop.abort(sig);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const backend = await openBackend({ kind: 'postgres', url: ctx.paths.store }, ctx.config.store, {
    applicationName: 'broadsheet worker',
  });
  if (backend.kind !== 'postgres') throw new Error('unreachable');
  const worker = workerName('worker');
  const stats = newStats();
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const boss = await startBoss(backend.pool, backend.url, cfg, {
      supervise: true,
      onError: (err) => logger.warn({ err: err.message }, `send queue: ${err.message}`),
    });
    cleanups.push(() => boss.stop({ graceful: false, wait: true, close: false }));
    await startOps(ctx, backend, cfg, worker, stats, cleanups);
    logger.info(
      { worker, concurrency: cfg.concurrency, connections: cfg.connections, rateLimit: cfg.rateLimit },
      `worker ${worker} taking send batches from ${displayStore(backend)}`,
    );
    await workBatches({ ctx, pool: backend.pool, boss, cfg, worker, signal: stop.signal, stats });
    return stats;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await closeBackend(backend).catch(() => {});
  }
}

/** Heartbeat row (status lists it) and, with a port, GET /healthz. */
async function startOps(
  ctx: Context,
  backend: Awaited<ReturnType<typeof openBackend>>,
  cfg: WorkerConfig,
  worker: string,
  stats: WorkStats,
  cleanups: (() => Promise<unknown>)[],
) {
  const { startHeartbeat } = await import('../ops/heartbeat.ts');
  const intervalMs = 10_000;
  const hb = await startHeartbeat(backend, {
    role: 'worker',
    instance: worker,
    intervalMs,
    detail: () => ({ ...stats }),
    logger: ctx.logger,
  });
  cleanups.push(() => hb.stop());
  if (!cfg.healthPort) return;
  const { startHealthServer, processCheck } = await import('../ops/health.ts');
  const { heartbeatsFor } = await import('../ops/heartbeat-store.ts');
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: cfg.healthPort,
    check: processCheck({
      store: await heartbeatsFor(backend),
      heartbeat: hb,
      intervalMs,
      staleBeats: 3,
      storeTimeoutMs: 2000,
      extra: () => ({ ...stats }),
    }),
  });
  cleanups.push(() => server.close());
  ctx.logger.info({ port: server.port }, `worker health on http://127.0.0.1:${server.port}/healthz`);
}
