import { BroadsheetError } from '../errors/index.ts';
import { parseYaml } from '../util/yaml.ts';
import { ENV_OVERRIDES } from './env.ts';

// The file's text → the raw mapping zod validates (load.ts, fast.ts): YAML
// syntax, "a mapping", no secrets in the file, then the env overrides.

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

export interface RawConfig {
  raw: Record<string, unknown>;
  /** 1-based line of the value at a path (undefined without a file). */
  lineOf: (p: readonly PropertyKey[]) => number | undefined;
}

/** The raw mapping from the file's text (undefined: no file) and the env overrides; throws CONFIG_INVALID. */
export function rawConfig(file: string, text: string | undefined, env: NodeJS.ProcessEnv): RawConfig {
  let raw: Record<string, unknown> = {};
  let lineOf: RawConfig['lineOf'] = () => undefined;
  if (text !== undefined) {
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
  return { raw, lineOf };
}
