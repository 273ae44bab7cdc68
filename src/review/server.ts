import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { type ServerType, serve } from '@hono/node-server';
import { appSecret } from '../config/secret.ts';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { openStore } from '../store/db.ts';
import { EditorAuth } from './accounts.ts';
import { createReviewApp } from './app.ts';

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
  const db = openStore(ctx.paths.store);
  for (const w of new EditorAuth(ctx, db, appSecret(ctx)).startupWarnings()) ctx.logger.warn(w);
  const app = createReviewApp(ctx, { db });
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
      db.close();
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
          db.close();
          resolve();
        });
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
