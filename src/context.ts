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
): Paths {
  return {
    root,
    config: resolve(root, flags.config ?? 'broadsheet.config.yaml'),
    content: resolve(root, flags.content ?? config.paths.content),
    out: resolve(root, flags.out ?? config.paths.out),
    store: resolve(root, flags.store ?? config.paths.store),
    templates: resolve(root, config.paths.templates),
  };
}
