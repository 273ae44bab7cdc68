import { createRequire } from 'node:module';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { BroadsheetError } from './errors/index.ts';
import { colorEnabled, formatRecord } from './log-format.ts';
import { writeAboveBar } from './progress.ts';

export type { Logger } from 'pino';

// pino (with its dozen modules) loads when the first line at an enabled level
// is written, not when a command starts: `status`, `--json` reads and most
// short commands write none (issue 16: a start within 3× of a bare node).
// pino is CommonJS, so it can be required synchronously at that moment.
const requireCjs = createRequire(import.meta.url);
type Pino = (options: LoggerOptions, stream?: DestinationStream) => Logger;
let pinoFn: (Pino & { destination: typeof import('pino').destination }) | undefined;
const pino = () => (pinoFn ??= requireCjs('pino'));

/** pino's numeric levels, to tell a disabled call without loading pino. */
const LEVEL_VALUES: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};
const noop = () => {};

/**
 * A Logger that makes the real pino logger on first use. Until then a call at
 * a level below `level` is a no-op and `level` / `isLevelEnabled` answer from
 * the level given; anything else (a line to write, child(), a level change)
 * makes the pino logger and forwards to it from then on.
 */
function lazyLogger(make: () => Logger, level: string): Logger {
  let real: Logger | undefined;
  const get = () => (real ??= make());
  return new Proxy({} as Logger, {
    get(_target, prop) {
      if (!real && typeof prop === 'string') {
        const v = LEVEL_VALUES[prop];
        if (v !== undefined && prop !== 'silent' && v < LEVEL_VALUES[level]!) return noop;
        if (prop === 'silent') return noop;
        if (prop === 'level') return level;
        if (prop === 'isLevelEnabled') return (l: string) => (LEVEL_VALUES[l] ?? 0) >= LEVEL_VALUES[level]!;
      }
      const r = get();
      const value = Reflect.get(r, prop, r) as unknown;
      return typeof value === 'function' ? value.bind(r) : value;
    },
    set(_target, prop, value) {
      return Reflect.set(get(), prop, value);
    },
    has(_target, prop) {
      return Reflect.has(get(), prop);
    },
  });
}

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
  if (!usePretty)
    return lazyLogger(
      () => pino()({ level, base: undefined }, pino().destination({ fd: 2, sync: true })),
      level,
    );
  const colors = colorEnabled(Boolean(process.stderr.isTTY));
  const debug = Boolean(env.DEBUG);
  return lazyLogger(() => {
    const dest = pino().destination({ fd: 2, sync: true });
    return pino()(
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
  }, level);
}

/** For tests and library callers that want silence. */
export const silentLogger = (): Logger => lazyLogger(() => pino()({ level: 'silent' }), 'silent');
