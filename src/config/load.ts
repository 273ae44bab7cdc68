import { existsSync, readFileSync } from 'node:fs';
import { BroadsheetError } from '../errors/index.ts';
import { formatPath, issueMessage } from '../util/issues.ts';
import { rawConfig } from './raw.ts';
import { type Config, configSchema } from './schema.ts';

export interface LoadedConfig {
  config: Config;
  /** The file read, or undefined when the embedded defaults were used. */
  file: string | undefined;
}

/**
 * File (if present), then env overrides, validated once. A missing default
 * file means the embedded defaults; a missing file named with --config is an error.
 */
export function loadConfig(
  file: string,
  opts: { explicit?: boolean; env?: NodeJS.ProcessEnv } = {},
): LoadedConfig {
  const present = existsSync(file);
  let text: string | undefined;
  if (present) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new BroadsheetError('CONFIG_UNREADABLE', { file }, { cause });
    }
  } else if (opts.explicit) {
    throw new BroadsheetError('CONFIG_UNREADABLE', { file }, { cause: new Error('file not found') });
  }
  return configFromText(file, text, opts);
}

/**
 * The configuration from the file's text (undefined: no file, the embedded
 * defaults) and the env overrides. loadConfig after the read; the CLI calls it
 * directly with the text its config cache was keyed by (cache.ts).
 */
export function configFromText(
  file: string,
  text: string | undefined,
  opts: { env?: NodeJS.ProcessEnv } = {},
): LoadedConfig {
  const env = opts.env ?? process.env;
  const present = text !== undefined;
  const { raw, lineOf } = rawConfig(file, text, env);
  // jitless: zod would compile (new Function) a parser for each of the ~25
  // object schemas on their first parse, which only pays off on repeated
  // parses; a config is parsed once per process, and this was a third of
  // the parse on a start after a config edit (issue 16). Same result, same issues.
  const res = configSchema.safeParse(raw, { reportInput: true, jitless: true });
  if (!res.success) {
    throw new BroadsheetError('CONFIG_INVALID', {
      file: present ? file : '(embedded defaults + environment)',
      problems: res.error.issues.map((i) => {
        const line = lineOf(i.path);
        return `${formatPath(i.path)}${line ? ` (line ${line})` : ''}: ${issueMessage(i)}`;
      }),
    });
  }
  return { config: res.data, file: present ? file : undefined };
}
