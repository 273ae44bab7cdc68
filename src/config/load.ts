import { existsSync, readFileSync } from 'node:fs';
import { BroadsheetError } from '../errors/index.ts';
import { formatPath, issueMessage } from '../util/issues.ts';
import { parseYaml } from '../util/yaml.ts';
import { ENV_OVERRIDES } from './env.ts';
import { type Config, configSchema } from './schema.ts';

const SECRET_KEY = /pass(word)?|secret|private_?key|smtp_?url|token/i;

function findSecretKeys(v: unknown, path: string[] = []): string[] {
  if (!v || typeof v !== 'object') return [];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, val]) => [
    ...(SECRET_KEY.test(k) ? [[...path, k].join('.')] : []),
    ...findSecretKeys(val, [...path, k]),
  ]);
}

function setIn(obj: Record<string, unknown>, path: readonly string[], value: unknown) {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path.at(-1)!] = value;
}

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
  let raw: Record<string, unknown> = {};
  let lineOf: (p: readonly PropertyKey[]) => number | undefined = () => undefined;
  const present = text !== undefined;
  if (present) {
    const parsed = parseYaml(text);
    if (parsed.errors.length)
      throw new BroadsheetError('CONFIG_INVALID', {
        file,
        problems: parsed.errors.map((e) => `line ${e.line ?? '?'}: ${e.message}`),
      });
    if (parsed.value != null && (typeof parsed.value !== 'object' || Array.isArray(parsed.value)))
      throw new BroadsheetError('CONFIG_INVALID', { file, problems: ['the file must be a YAML mapping'] });
    raw = (parsed.value as Record<string, unknown>) ?? {};
    lineOf = parsed.lineOf;
    const secrets = findSecretKeys(raw);
    if (secrets.length)
      throw new BroadsheetError('CONFIG_INVALID', {
        file,
        problems: secrets.map(
          (k) =>
            `${k}: secrets are not read from files; set SMTP_URL, BROADSHEET_SECRET, BROADSHEET_EDITOR_PASSWORD or DKIM_PRIVATE_KEY_FILE in the environment`,
        ),
      });
  }
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    if (env[name]) setIn(raw, path, env[name]);
  }
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
