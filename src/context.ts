import { resolve } from 'node:path';
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

export function resolvePaths(
  config: Config,
  flags: { config?: string; content?: string; out?: string; store?: string },
  root = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Paths {
  const isUrl = (v: string | undefined): v is string => !!v && /^postgres(ql)?:\/\//i.test(v);
  const storeFlag = flags.store?.startsWith('sqlite:') ? flags.store.slice('sqlite:'.length) : flags.store;
  const store = isUrl(storeFlag)
    ? storeFlag
    : storeFlag !== undefined
      ? resolve(root, storeFlag)
      : isUrl(env.DATABASE_URL)
        ? env.DATABASE_URL
        : isUrl(config.store?.url)
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
