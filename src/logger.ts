import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/**
 * Readable lines on a terminal, JSON lines otherwise (cron, systemd, CI).
 * Logs go to stderr: stdout is reserved for command output and --json.
 * pino-pretty runs in-process (sync) so a short CLI run never loses lines.
 */
export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? (process.env.DEBUG ? 'debug' : 'info');
  const usePretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  if (usePretty) {
    return pino(
      { level },
      pretty({
        destination: 2,
        sync: true,
        colorize: true,
        ignore: 'pid,hostname',
        translateTime: 'HH:MM:ss',
      }),
    );
  }
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
}

/** For tests and library callers that want silence. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
