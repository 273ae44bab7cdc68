import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { type ServerType, serve } from '@hono/node-server';
import { appSecret } from '../config/secret.ts';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { closeBackend, displayStore, openBackend, parseStoreTarget } from '../store/backend.ts';
import { EditorAuth } from './accounts.ts';
import { createReviewApp } from './app.ts';
import { webStoresFor } from './stores.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Node's own limits on a connection, from review.limits: a client that sends
 * its headers or its body too slowly (slowloris, a stalled upload) gets 408
 * and the connection is closed. Node checks these on an interval (30 s by
 * default), so the interval follows the timeout: a short timeout in a test
 * ends quickly too.
 */
export function serverOptions(ctx: Context): ServerOptions {
  const { requestTimeoutMs, headersTimeoutMs } = ctx.config.review.limits;
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(headersTimeoutMs, requestTimeoutMs),
    connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(requestTimeoutMs / 4))),
  } as ServerOptions;
}

/**
 * `Expect: 100-continue` (curl sends it for bodies over 1 MB): answer 413 at
 * once when the declared length is over the limit, so the client never uploads
 * the body; otherwise continue as usual.
 */
function refuseLargeBeforeContinue(server: Server, bodyBytes: (url: string) => number) {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const len = Number(req.headers['content-length']);
    if (Number.isFinite(len) && len > bodyBytes(req.url ?? '/')) {
      res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end('Payload Too Large\n');
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
}

/** Start `broadsheet serve`: the store opened once, the app on host:port (127.0.0.1 unless told). */
export async function startReviewServer(
  ctx: Context,
  opts: { host?: string; port?: number } = {},
): Promise<RunningServer> {
  const host = opts.host ?? ctx.config.review.host;
  const port = opts.port ?? ctx.config.review.port;
  // SQLite, or a PostgreSQL store shared with other replicas (issue 17): every
  // replica keeps sessions, rate limits and the publish queue in the store only.
  const backend = await openBackend(parseStoreTarget(ctx.paths.store), ctx.config.store, {
    applicationName: 'broadsheet serve',
  });
  let stopBeat: (() => Promise<void>) | undefined;
  try {
    const auth = new EditorAuth(ctx, webStoresFor(ctx, backend), appSecret(ctx));
    for (const w of await auth.startupWarnings()) ctx.logger.warn(w);
    stopBeat = await startServeHeartbeat(ctx, backend);
  } catch (err) {
    await closeBackend(backend).catch(() => {});
    throw err;
  }
  if (backend.kind === 'postgres')
    ctx.logger.info(
      { store: displayStore(backend) },
      "serve on a shared PostgreSQL store: editors' pages, sign-in, the publish queue and readers' routes are shared with other replicas",
    );
  const app = createReviewApp(ctx, { backend });
  const closeStore = async () => {
    await stopBeat?.().catch(() => {});
    await closeBackend(backend).catch(() => {});
  };
  let server: ServerType;
  const addr = await new Promise<{ port: number }>((resolve, reject) => {
    server = serve({ fetch: app.fetch, hostname: host, port, serverOptions: serverOptions(ctx) }, (info) =>
      resolve(info),
    );
    (server as Server).keepAliveTimeout = ctx.config.review.limits.keepAliveTimeoutMs;
    // /hooks/ may be larger (webhooks.maxBodyBytes); the app's guard applies the exact rule.
    refuseLargeBeforeContinue(server as Server, (url) =>
      url.includes('/hooks/')
        ? Math.max(ctx.config.webhooks.maxBodyBytes, ctx.config.review.limits.bodyBytes)
        : ctx.config.review.limits.bodyBytes,
    );
    server.once('error', (err: NodeJS.ErrnoException) => {
      void closeStore();
      reject(
        err.code === 'EADDRINUSE'
          ? new BroadsheetError('REVIEW_PORT_IN_USE', { host, port }, { cause: err })
          : err,
      );
    });
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${addr.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          closeStore().then(resolve, resolve);
        });
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/**
 * The serve heartbeat (issue 17, src/ops/heartbeat.ts): one process_heartbeats
 * row per serve process, so `status --json` lists every replica. It never
 * throws into serve: a failed beat is logged and tried again.
 */
async function startServeHeartbeat(
  ctx: Context,
  backend: Awaited<ReturnType<typeof openBackend>>,
): Promise<() => Promise<void>> {
  const { startHeartbeat } = await import('../ops/heartbeat.ts');
  const hb = await startHeartbeat(backend, {
    role: 'serve',
    intervalMs: ctx.config.ops.heartbeatMs,
    logger: ctx.logger,
    now: () => ctx.clock.now().getTime(),
  });
  return () => hb.stop();
}
