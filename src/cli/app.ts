import { dirname } from 'node:path';
import type { Command } from 'commander';
import { configSource, readCachedConfig, writeCachedConfig } from '../config/cache.ts';
import type { Config } from '../config/schema.ts';
import type { Context } from '../context.ts';
import { BroadsheetError, formatErrorChain, isBroadsheetError, UsageError } from '../errors/index.ts';

// What a command's context is made of: configuration (zod + yaml), secrets and
// the logger. Loaded before any command's action (main.ts: preAction), never
// for --help / --version, which print from commander alone (issue 16: a start
// within 3× of a bare node). zod, yaml and the schemas load only when the
// compiled CLI's config cache has no entry for this file + env (config/cache.ts);
// then only the schemas of the sections the file has (config/fast.ts), or all
// of them (config/load.ts) when the file has a problem to report or under tsx.
// pino loads only when a line is logged (logger.ts).
type ContextModules = {
  env: typeof import('../config/env.ts');
  context: typeof import('../context.ts');
  logger: typeof import('../logger.ts');
};
let modules: ContextModules | undefined;
let loadModule: typeof import('../config/load.ts') | undefined;

/**
 * Load what createContext() and printResult() use; main.ts awaits it before
 * every action (as commander's preAction hook, which passes the command about
 * to run: with it, the config module is skipped when the cache has the config).
 */
export async function loadContextModules(_hooked?: Command, actionCommand?: Command): Promise<void> {
  if (!modules) {
    const [env, context, logger] = await Promise.all([
      import('../config/env.ts'),
      import('../context.ts'),
      import('../logger.ts'),
    ]);
    modules = { env, context, logger };
  }
  const g = actionCommand && globalsOf(actionCommand);
  const cached = g ? cachedConfig(g) : undefined;
  if (cached) debugConfig('from the cache');
  if (!cached && !(g && (await validatedFast(g)))) loadModule ??= await import('../config/load.ts');
}

/**
 * On a cache miss, the config validated with only the sections the file has
 * (config/fast.ts, with the defaults this build computed); kept for configFor.
 * False when that path does not apply: load.ts then validates and reports.
 */
async function validatedFast(g: GlobalOptions): Promise<boolean> {
  const source = sourceOf(configFileOf(g), Boolean(g.config));
  const build = globalThis.__broadsheetBuild;
  if (!source || !build) return false;
  let config: Config | undefined;
  let how = 'fast.ts';
  try {
    // The build's CommonJS copy with its code cache (config/fast-loader.ts), else the module itself.
    const { compiledFast } = await import('../config/fast-loader.ts');
    const compiled = compiledFast(dirname(build.cacheDir));
    const fast = compiled?.fast ?? (await import('../config/fast.ts'));
    const defaults = fast.buildDefaults();
    config = defaults && (await fast.fastConfig(configFileOf(g), source.text, defaults));
    if (compiled) {
      const written = compiled.saveCache();
      how = `config-fast.cjs, code cache ${compiled.cached ? 'used' : written ? 'written' : 'not used'}`;
    }
  } catch {
    config = undefined; // load.ts validates, and reports what there is to report
  }
  debugConfig(config ? `validated by section (${how})` : 'handed to load.ts');
  if (!config) return false;
  validated.set(source.key, config);
  return true;
}

/** BROADSHEET_DEBUG_CONFIG=1: how this start got its config, on stderr. */
const debugConfig = (how: string) => {
  if (process.env.BROADSHEET_DEBUG_CONFIG === '1') process.stderr.write(`broadsheet: config ${how}\n`);
};

function loaded(): ContextModules {
  if (!modules) throw new Error('cli/app.ts: loadContextModules() must run before a command action');
  return modules;
}

/** The config file a command reads: --config, else broadsheet.config.yaml in the cwd. */
function configFileOf(g: GlobalOptions): string {
  return loaded().context.resolvePaths(
    {
      paths: { content: 'content', out: 'out', store: 'data/broadsheet.db', templates: 'templates' },
    } as never,
    g,
  ).config;
}

/** The config file read once per run for the cache (the preAction and createContext share it). */
const sources = new Map<string, ReturnType<typeof configSource>>();
function sourceOf(file: string, explicit: boolean) {
  const id = `${explicit}\0${file}`;
  if (!sources.has(id)) sources.set(id, configSource(file, explicit));
  return sources.get(id);
}

/**
 * Configs the preAction found in the cache, kept for createContext: an entry
 * removed in between (a build, another process pruning) must not leave the
 * action without a config when the config module was skipped.
 */
const prefetched = new Map<string, Config>();
/** Configs the preAction validated (validatedFast), to be cached by configFor. */
const validated = new Map<string, Config>();
const cachedFast = new Set<string>();

/** The cached config for these options, if the compiled CLI's cache has it. */
function cachedConfig(g: GlobalOptions): Config | undefined {
  const source = sourceOf(configFileOf(g), Boolean(g.config));
  const hit = source && readCachedConfig<Config>(source.key);
  if (source && hit) prefetched.set(source.key, hit);
  return hit;
}

/** Validated config for a command: from the cache, else parsed (and then cached). */
function configFor(g: GlobalOptions): Config {
  const file = configFileOf(g);
  const explicit = Boolean(g.config);
  const source = sourceOf(file, explicit);
  const kept = source && prefetched.get(source.key);
  // A copy each time, as a parse would give: a command may change its context's config.
  const hit = kept ? structuredClone(kept) : source && readCachedConfig<Config>(source.key);
  if (hit) return hit;
  const fast = source && validated.get(source.key);
  if (fast) {
    if (!cachedFast.has(source.key)) writeCachedConfig(source.key, fast);
    cachedFast.add(source.key);
    return structuredClone(fast);
  }
  if (!loadModule) throw new Error('cli/app.ts: the config module was not loaded before the action');
  if (!source) return loadModule.loadConfig(file, { explicit }).config;
  // Parsed from the very text the key was made from, so the entry matches its key.
  const { config } = loadModule.configFromText(file, source.text);
  writeCachedConfig(source.key, config);
  return config;
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
  const { env, context, logger } = loaded();
  const config = configFor(g);
  return {
    config,
    secrets: env.readSecrets(),
    logger: logger.createLogger(),
    clock: context.systemClock,
    paths: context.resolvePaths(config, g),
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
