import type { Command } from 'commander';
import type { Context } from '../context.ts';
import { BroadsheetError, formatErrorChain, isBroadsheetError, UsageError } from '../errors/index.ts';

// What a command's context is made of: configuration (zod + yaml), secrets and
// the logger (pino). Loaded before any command's action (main.ts: preAction),
// never for --help / --version, which print from commander alone (issue 16: a
// start within 3× of a bare node).
type ContextModules = {
  env: typeof import('../config/env.ts');
  load: typeof import('../config/load.ts');
  context: typeof import('../context.ts');
  logger: typeof import('../logger.ts');
};
let modules: ContextModules | undefined;

/** Load what createContext() and printResult() use; main.ts awaits it before every action. */
export async function loadContextModules(): Promise<void> {
  if (modules) return;
  const [env, load, context, logger] = await Promise.all([
    import('../config/env.ts'),
    import('../config/load.ts'),
    import('../context.ts'),
    import('../logger.ts'),
  ]);
  modules = { env, load, context, logger };
}

function loaded(): ContextModules {
  if (!modules) throw new Error('cli/app.ts: loadContextModules() must run before a command action');
  return modules;
}

/** The options every command takes (DESIGN.md § The command line). */
export interface GlobalOptions {
  config?: string;
  content?: string;
  out?: string;
  store?: string;
  json?: boolean;
}

export const globalsOf = (cmd: Command): GlobalOptions => cmd.optsWithGlobals() as GlobalOptions;

/** Load config (file, env), secrets (env) and paths for a command. */
export function createContext(g: GlobalOptions): Context {
  const { env, load, context, logger } = loaded();
  const { resolvePaths, systemClock } = context;
  const paths0 = resolvePaths(
    {
      paths: { content: 'content', out: 'out', store: 'data/broadsheet.db', templates: 'templates' },
    } as never,
    g,
  );
  const { config } = load.loadConfig(paths0.config, { explicit: Boolean(g.config) });
  return {
    config,
    secrets: env.readSecrets(),
    logger: logger.createLogger(),
    clock: systemClock,
    paths: resolvePaths(config, g),
  };
}

/** Print a JSON document on stdout (for --json). */
export const printJson = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

/**
 * Print a command's result (its summary lines) on stdout. When stdout and the
 * log share the terminal, a line the log has just shown is not printed again:
 * each summary appears once. Piped or redirected, stdout gets every line.
 */
export function printResult(text: string) {
  const both = Boolean(process.stdout.isTTY && process.stderr.isTTY);
  const { shownOnTerminal } = loaded().logger;
  const lines = text.split('\n').filter((l) => !(both && shownOnTerminal(l)));
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Wrap a command action: errors print their chain once (stack only with DEBUG)
 * and set the exit code from the catalog; a UsageError also prints the help.
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<number | undefined> | number | undefined,
) {
  return async (...args: A) => {
    const cmd = args.at(-1) as Command;
    try {
      const code = await fn(...args);
      process.exitCode = code ?? 0;
    } catch (raw) {
      const err = await named(raw);
      process.stderr.write(`${formatErrorChain(err)}\n`);
      if (err instanceof UsageError) cmd.outputHelp({ error: true });
      process.exitCode = isBroadsheetError(err) ? err.exitCode : 1;
    }
  };
}

/**
 * The last line of defence for faults no stage named: an SQLite error from a
 * statement after the store opened (a full disk mid-run, a file damaged under
 * us) and a file-system error that carries its path get their catalog code,
 * path and hint here, once, instead of a bare `SQLITE_FULL` or `EROFS`.
 */
export async function named(err: unknown): Promise<unknown> {
  if (isBroadsheetError(err)) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return err;
  if (code.startsWith('SQLITE_')) {
    const { lastOpenedStore, storeError } = await import('../store/db.ts');
    return lastOpenedStore ? storeError(err, lastOpenedStore) : err;
  }
  const path = (err as { path?: unknown }).path;
  if (typeof path === 'string') {
    const { fsError } = await import('../util/fs-errors.ts');
    return fsError(err, path) ?? err;
  }
  return err;
}

export { BroadsheetError };
