import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { z } from 'zod';
import type { FieldDefaults } from './defaults.ts';
import { withSenderIdentity } from './identity.ts';
import { rawConfig } from './raw.ts';
import type { Config, configFields } from './schema.ts';
import { SECTIONS } from './sections.ts';
import { CONFIG_KEYS, crossFieldIssues, type SectionKey, topShape } from './top.ts';

// A config file validated with only the sections it has (issue 16). Building
// every stage's zod schema was most of a start after a config edit (or a
// build), yet a file names a handful of sections: the rest validate to their
// defaults, which the build computed (defaults.ts → dist/config-defaults.v8).
//
// The result is schema.ts's, key for key and in the same order: each field
// the file has goes through its own schema (the same instance), each field it
// lacks takes the value the whole schema gives an absent field, then the
// cross-field checks and the sender identity run as in schema.ts. Anything
// this path does not handle cleanly — a YAML or validation problem, an unknown
// field, a failed cross-field check, no defaults for this build — returns
// undefined, and the caller runs load.ts, which reports it with its usual
// errors and exit codes.

/** The defaults file this build wrote, when it matches this build and this Node's Intl. */
export function readFieldDefaults(file: string, buildId: string): FieldDefaults | undefined {
  try {
    const entry = deserialize(readFileSync(file)) as {
      buildId?: unknown;
      versions?: unknown;
      defaults?: unknown;
    };
    if (entry.buildId !== buildId || JSON.stringify(entry.versions) !== JSON.stringify(intlVersions()))
      return undefined;
    return entry.defaults as FieldDefaults;
  } catch {
    return undefined;
  }
}

/** What validation may depend on besides the code: time-zone names are checked against Intl. */
export const intlVersions = () => {
  const { node, icu, tz, unicode } = process.versions;
  return { node, icu, tz, unicode };
};

/** Where the compiled CLI's field defaults are, next to its cache folder (bin/broadsheet.js). */
export function buildDefaults(): FieldDefaults | undefined {
  const build = globalThis.__broadsheetBuild;
  return build ? readFieldDefaults(join(build.cacheDir, '..', 'config-defaults.v8'), build.id) : undefined;
}

/** The validated config, or undefined when load.ts must do it (see above). Never throws. */
export async function fastConfig(
  file: string,
  text: string | undefined,
  defaults: FieldDefaults,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Config | undefined> {
  try {
    const { raw } = rawConfig(file, text, env);
    const keys: readonly string[] = CONFIG_KEYS;
    if (Object.keys(raw).some((k) => !keys.includes(k))) return undefined;
    const shape: Record<string, z.ZodType> = {};
    for (const k of CONFIG_KEYS)
      if (k in raw)
        shape[k] = k in topShape ? topShape[k as keyof typeof topShape] : await SECTIONS[k as SectionKey]();
    const res = z.strictObject(shape).safeParse(raw, { jitless: true });
    if (!res.success) return undefined;
    const parsed = res.data as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of CONFIG_KEYS) {
      const from = k in raw ? parsed : defaults;
      if (Object.hasOwn(from, k)) out[k] = from[k];
    }
    const c = out as z.output<typeof configFields>;
    if (crossFieldIssues(c).length) return undefined;
    return withSenderIdentity(c);
  } catch {
    return undefined;
  }
}
