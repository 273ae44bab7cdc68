import type { Command } from 'commander';
import { UsageError } from '../../errors/index.ts';
import { action, createContext, globalsOf } from '../app.ts';

// `broadsheet inbound` (issue 15): the bounce/complaint/unsubscribe endpoint.
// Without --imap: the SMTP (or --lmtp) listener. With --imap: the IMAP poller
// instead (add --listen for both). --once: one poll, then exit (for cron).

interface InboundFlags {
  port?: string;
  host?: string;
  lmtp?: boolean;
  imap?: boolean;
  listen?: boolean;
  once?: boolean;
}

const DAY_MS = 86_400_000;

export function registerInbound(program: Command) {
  program
    .command('inbound')
    .description('receive bounces, complaints and mailto unsubscribes (SMTP/LMTP or IMAP)')
    .option('--port <n>', 'port to listen on (default inbound.port, 2525; 0 = any free port)')
    .option('--host <h>', 'address to bind (default inbound.host, 127.0.0.1)')
    .option('--lmtp', 'speak LMTP (behind Postfix’s lmtp: transport) instead of SMTP')
    .option('--imap', 'poll the mailbox in IMAP_URL instead of listening')
    .option('--listen', 'with --imap: also run the listener')
    .option('--once', 'with --imap: one poll, then exit (0, or 1 with the failure’s code)')
    .action(
      action(async (flags: InboundFlags, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        let port: number | undefined;
        if (flags.port !== undefined) {
          port = Number(flags.port);
          if (!/^\d+$/.test(flags.port) || port > 65535)
            throw new UsageError(`--port must be 0–65535, got "${flags.port}"`);
        }
        if (flags.once && !flags.imap) throw new UsageError('--once is one IMAP poll: use it with --imap');
        if (flags.once && flags.listen) throw new UsageError('--once and --listen do not go together');
        const listen = !flags.imap || Boolean(flags.listen);

        const [
          { openBackend, closeBackend, parseStoreTarget },
          { appSecret },
          { tokenKeys },
          server,
          imap,
          processing,
          store,
        ] = await Promise.all([
          import('../../store/backend.ts'),
          import('../../config/secret.ts'),
          import('../../delivery/tokens.ts'),
          import('../../inbound/server.ts'),
          import('../../inbound/imap.ts'),
          import('../../inbound/process.ts'),
          import('../../inbound/store.ts'),
        ]);
        // Fail on a bad IMAP_URL (and, on a shared store, a missing BROADSHEET_SECRET) before anything is opened.
        const target = flags.imap ? imap.parseImapUrl(process.env.IMAP_URL) : undefined;
        const keys = tokenKeys(appSecret(ctx));
        // SQLite, or the PostgreSQL store shared with other hosts (issue 17).
        const backend = await openBackend(parseStoreTarget(ctx.paths.store), ctx.config.store, {
          applicationName: 'broadsheet inbound',
        });
        const close = () => closeBackend(backend).catch(() => {});
        const inboundStore = store.inboundStoreFor(backend);
        const deps = {
          backend,
          keys,
          config: ctx.config,
          now: () => ctx.clock.now(),
          logger: ctx.logger,
        };
        const { processInbound } = processing;
        const keepDays = ctx.config.inbound.keepRawDays;
        const purge = async () => {
          try {
            const n = await inboundStore.purge(keepDays, ctx.clock.now());
            if (n)
              ctx.logger.info(
                { purged: n, keepRawDays: keepDays },
                `inbound: dropped the raw source of ${n} message(s) older than ${keepDays} days`,
              );
          } catch (err) {
            ctx.logger.error({ err }, 'inbound: removing old raw sources failed; trying again tomorrow');
          }
        };
        await purge();

        if (flags.once && target) {
          try {
            const r = await imap.pollOnce(deps, processInbound, target);
            process.stdout.write(
              g.json
                ? `${JSON.stringify(r)}\n`
                : `${target.mailbox}: ${r.found} unseen, ${r.processed} processed, ${r.skipped} over the size limit\n`,
            );
            return 0;
          } finally {
            await close();
          }
        }

        let listener: Awaited<ReturnType<typeof server.startInboundServer>> | undefined;
        try {
          if (listen)
            listener = await server.startInboundServer(deps, processInbound, {
              ...(flags.host !== undefined && { host: flags.host }),
              ...(port !== undefined && { port }),
              ...(flags.lmtp && { lmtp: true }),
            });
        } catch (err) {
          await close();
          throw err;
        }
        const poller = target ? imap.startImapPoller(deps, processInbound, target) : undefined;
        const where = {
          ...(listener && { url: listener.url }),
          ...(target && {
            imap: `${target.secure ? 'imaps' : 'imap'}://${target.host}:${target.port}/${target.mailbox}`,
          }),
        };
        process.stdout.write(
          g.json
            ? `${JSON.stringify(where)}\n`
            : `${[
                listener && `listening on ${listener.url}`,
                target && `polling ${where.imap} every ${ctx.config.inbound.imap.pollSeconds} s`,
              ]
                .filter(Boolean)
                .join('\n')}\n`,
        );
        const daily = setInterval(() => void purge(), DAY_MS);
        daily.unref();

        // SIGTERM/SIGINT: stop accepting, let open sessions and the poll under way finish, close the store, exit 0.
        // A second signal ends at once with 1 (a message cut off is retried by its sender: nothing lost).
        await new Promise<void>((resolve) => {
          let signals = 0;
          const stop = (sig: NodeJS.Signals) => {
            signals++;
            if (signals > 1) {
              ctx.logger.warn(`${sig} again: stopping now`);
              process.exit(1);
            }
            ctx.logger.info(`${sig}: stopping; open sessions may finish`);
            clearInterval(daily);
            Promise.allSettled([listener?.close(), poller?.stop()]).then(() => resolve());
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await close();
        ctx.logger.info(
          `inbound stopped (${listener ? `${listener.accepted()} message(s) accepted` : 'poller'})`,
        );
        // A client socket or an IMAP handle left half-closed must not keep a stopped daemon up.
        setTimeout(() => process.exit(), 100).unref();
        return 0;
      }),
    );
}
