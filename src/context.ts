import { dirname, resolve } from 'node:path';
import type { Secrets } from './config/env.ts';
import type { Config } from './config/schema.ts';
import type { Logger } from './logger.ts';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface Paths {
  /** Folder the relative paths below were resolved against (the cwd for the CLI). */
  root: string;
  config: string;
  content: string;
  out: string;
  /**
   * The store: an absolute SQLite file path, or a postgres:// URL (issue 17;
   * src/store/backend.ts). --store wins, then DATABASE_URL, then store.url,
   * then paths.store.
   */
  store: string;
  templates: string;
}

/**
 * What every stage takes besides its typed input: no globals, so tests build
 * one by hand. `store` is typed loosely until the store lands (delivery issue).
 */
export interface Context {
  config: Config;
  secrets: Secrets;
  logger: Logger;
  clock: Clock;
  paths: Paths;
}

/** A postgres:// (or postgresql://) URL: the shared PostgreSQL store (issue 17). */
export const isPgUrl = (s: string | undefined): s is string => !!s && /^postgres(ql)?:\/\//i.test(s);

/**
 * This host's own data folder: beside the SQLite store, or — with a PostgreSQL
 * store — the folder paths.store would use. Host-local files live here (the
 * feed validators cache, the send fan-out's dot journals).
 */
export const localDataDir = (ctx: { paths: Paths; config: Config }): string =>
  isPgUrl(ctx.paths.store)
    ? dirname(resolve(ctx.paths.root, ctx.config.paths.store))
    : dirname(ctx.paths.store);

export function resolvePaths(
  config: Config,
  flags: { config?: string; content?: string; out?: string; store?: string },
  root = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Paths {
  const storeFlag = flags.store?.startsWith('sqlite:') ? flags.store.slice('sqlite:'.length) : flags.store;
  const store = isPgUrl(storeFlag)
    ? storeFlag
    : storeFlag !== undefined
      ? resolve(root, storeFlag)
      : isPgUrl(env.DATABASE_URL)
        ? env.DATABASE_URL
        : isPgUrl(config.store?.url)
          ? config.store.url
          : resolve(root, config.paths.store);
  return {
    root,
    config: resolve(root, flags.config ?? 'broadsheet.config.yaml'),
    content: resolve(root, flags.content ?? config.paths.content),
    out: resolve(root, flags.out ?? config.paths.out),
    store,
    templates: resolve(root, config.paths.templates),
  };
}
