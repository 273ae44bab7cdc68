import { type ServerType, serve } from '@hono/node-server';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { openStore } from '../store/db.ts';
import { createReviewApp } from './app.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Start `broadsheet serve`: the store opened once, the app on host:port (127.0.0.1 unless told). */
export async function startReviewServer(
  ctx: Context,
  opts: { host?: string; port?: number } = {},
): Promise<RunningServer> {
  const host = opts.host ?? ctx.config.review.host;
  const port = opts.port ?? ctx.config.review.port;
  const db = openStore(ctx.paths.store);
  const app = createReviewApp(ctx, { db });
  let server: ServerType;
  const addr = await new Promise<{ port: number }>((resolve, reject) => {
    server = serve({ fetch: app.fetch, hostname: host, port }, (info) => resolve(info));
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
