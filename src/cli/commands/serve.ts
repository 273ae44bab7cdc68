import type { Command } from 'commander';
import { UsageError } from '../../errors/index.ts';
import { action, createContext, globalsOf } from '../app.ts';

export function registerServe(program: Command) {
  program
    .command('serve')
    .description("editors' gallery, one-click unsubscribe endpoint and digest archive (HTTP)")
    .option('--port <n>', 'port to listen on (default review.port, 8787; 0 = any free port)')
    .option('--host <h>', 'address to bind (default 127.0.0.1: only this machine)')
    .action(
      action(async (opts: { port?: string; host?: string }, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        let port: number | undefined;
        if (opts.port !== undefined) {
          port = Number(opts.port);
          if (!/^\d+$/.test(opts.port) || port > 65535)
            throw new UsageError(`--port must be 0–65535, got "${opts.port}"`);
        }
        // Who can sign in (accounts, the bootstrap password, nobody) is logged by the server at start.
        const { startReviewServer } = await import('../../review/server.ts');
        const server = await startReviewServer(ctx, { host: opts.host, port });
        process.stdout.write(
          g.json ? `${JSON.stringify({ url: server.url })}\n` : `serving on ${server.url}\n`,
        );
        ctx.logger.info({ url: server.url }, 'review server listening');
        // Stop on SIGINT/SIGTERM: finish open requests, close the store, exit 0.
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            server.close().then(resolve, resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        return 0;
      }),
    );
}
