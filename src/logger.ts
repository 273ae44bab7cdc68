import pino, { type Logger } from 'pino';
import { BroadsheetError } from './errors/index.ts';
import { colorEnabled, formatRecord } from './log-format.ts';
import { writeAboveBar } from './progress.ts';

export type { Logger } from 'pino';

/** What the terminal has already shown, so a command's result is not printed twice (see app.ts printResult). */
const shown: string[] = [];
export const shownOnTerminal = (line: string) => shown.includes(line);

/**
 * Readable lines on a terminal, JSON lines otherwise (cron, systemd, CI);
 * LOG_FORMAT=pretty|json overrides the choice. Logs go to stderr: stdout is
 * reserved for command output and --json. Both write synchronously, so a short
 * CLI run (or one that ends with process.exit) never loses a line.
 */
export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  const env = process.env;
  const level = (opts.level ?? env.LOG_LEVEL?.trim().toLowerCase()) || (env.DEBUG ? 'debug' : 'info');
  const format = env.LOG_FORMAT?.trim().toLowerCase() || undefined;
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
  if (!levels.includes(level))
    throw new BroadsheetError('ENV_VALUE_INVALID', { name: 'LOG_LEVEL', value: level, allowed: levels });
  if (format && format !== 'pretty' && format !== 'json')
    throw new BroadsheetError('ENV_VALUE_INVALID', {
      name: 'LOG_FORMAT',
      value: format,
      allowed: ['pretty', 'json'],
    });
  const usePretty =
    opts.pretty ?? (format === 'pretty' ? true : format === 'json' ? false : Boolean(process.stderr.isTTY));
  if (!usePretty) return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
  const colors = colorEnabled(Boolean(process.stderr.isTTY));
  const debug = Boolean(env.DEBUG);
  const dest = pino.destination({ fd: 2, sync: true });
  return pino(
    { level, base: undefined },
    {
      write(line: string) {
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (typeof rec.msg === 'string') {
          shown.push(rec.msg);
          if (shown.length > 50) shown.shift(); // the daemon logs forever: remember only the latest
        }
        const text = `${formatRecord(rec, { colors, debug })}\n`;
        writeAboveBar(() => dest.write(text));
      },
    },
  );
}

/** For tests and library callers that want silence. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
