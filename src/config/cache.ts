// The validated configuration, cached on disk for the compiled CLI (issue 16):
// building zod's schemas and parsing the YAML is most of a short command's
// start (`status`). Light on purpose: node built-ins only, no zod, no yaml.
//
// The key is a hash of everything the result depends on:
//   - the build (dist/stamp.json `buildId`, new on every `npm run build`): the
//     schema code, zod and yaml are inside the bundle;
//   - the file's exact text, or its absence (embedded defaults);
//   - the env overrides (BROADSHEET_PUBLIC_URL, …: env.ts ENV_OVERRIDES);
//   - Node's version and its ICU / time-zone data (time-zone names are checked).
// So any change to the file or an override is a different key: it is parsed,
// validated (same errors, same exit codes) and cached anew. Only successes are
// cached. Under tsx (sources, no build) there is no cache at all.
//
// Entries live in dist/cache/config/ (scripts/build.mjs empties dist/cache),
// v8-serialized, a few KB each, the newest MAX_ENTRIES kept. A cache that
// cannot be read or written (read-only install, a torn file) is a miss.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { ENV_OVERRIDES } from './env.ts';

declare global {
  /** Set by bin/broadsheet.js when it runs dist/: which build, and where its cache lives. */
  var __broadsheetBuild: { id: string; cacheDir: string } | undefined;
}

const MAX_ENTRIES = 16;
const FORMAT = 1;

/** The config file as the cache saw it: its text, or undefined for no file. */
export interface ConfigSource {
  key: string;
  text: string | undefined;
}

/**
 * Read the config file for the cache. undefined when there is no cache (not
 * the compiled CLI) or the read needs loadConfig's own handling (unreadable,
 * or missing when named with --config): those are never cached.
 */
export function configSource(
  file: string,
  explicit: boolean,
  env: NodeJS.ProcessEnv = process.env,
): ConfigSource | undefined {
  const build = globalThis.__broadsheetBuild;
  if (!build) return undefined;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || explicit) return undefined;
  }
  const overrides = Object.keys(ENV_OVERRIDES).map((name) => env[name] ?? null);
  const { node, icu, tz, unicode } = process.versions;
  const key = createHash('sha256')
    .update(JSON.stringify([FORMAT, build.id, node, icu, tz, unicode, overrides, text ?? null]))
    .digest('hex');
  return { key, text };
}

const entryPath = (key: string) => {
  const build = globalThis.__broadsheetBuild;
  return build ? join(build.cacheDir, 'config', `${key}.v8`) : undefined;
};

/** The config cached under `key`, or undefined. */
export function readCachedConfig<C>(key: string): C | undefined {
  const file = entryPath(key);
  if (!file) return undefined;
  try {
    const entry = deserialize(readFileSync(file)) as { key?: unknown; config?: C };
    return entry.key === key ? entry.config : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Cache a validated config under `key`. Skipped when the config would not come
 * back identical (a class instance or function in it): a hit must return
 * exactly what parsing returns.
 */
export function writeCachedConfig(key: string, config: unknown): void {
  const file = entryPath(key);
  if (!file) return;
  try {
    const bytes = serialize({ key, config });
    if (!isDeepStrictEqual((deserialize(bytes) as { config: unknown }).config, config)) return;
    const dir = join(file, '..');
    mkdirSync(dir, { recursive: true });
    // Written whole then renamed: a concurrent reader sees the old entry or the new, never half.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
    prune(dir);
  } catch {
    // A cache that cannot be written only costs the next start a parse.
  }
}

function prune(dir: string) {
  const entries = readdirSync(dir).filter((f) => f.endsWith('.v8'));
  if (entries.length <= MAX_ENTRIES) return;
  const byAge = entries
    .map((f) => ({ f, at: statSync(join(dir, f), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => a.at - b.at);
  for (const { f } of byAge.slice(0, entries.length - MAX_ENTRIES)) rmSync(join(dir, f), { force: true });
}
