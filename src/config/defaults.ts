import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { intlVersions } from './fast.ts';
import { compiledFast } from './fast-loader.ts';
import { configFields } from './schema.ts';

// What each field of the file validates to when the file leaves it out: the
// whole schema's result for an empty file, before the sender identity is
// filled in. scripts/build.mjs computes it once per build into
// dist/config-defaults.v8 (this module is a build entry) for fast.ts.

export type FieldDefaults = Record<string, unknown>;

export function fieldDefaults(): FieldDefaults {
  const r = configFields.safeParse({}, { jitless: true });
  if (!r.success) throw new Error(`the embedded config defaults do not validate: ${r.error.message}`);
  return r.data;
}

/** The content of dist/config-defaults.v8 for a build (scripts/build.mjs serializes it). */
export const defaultsEntry = (buildId: string) => ({
  buildId,
  versions: intlVersions(),
  defaults: fieldDefaults(),
});

/**
 * The build's last step: run dist/config-fast.cjs once on `configFile` (or no
 * file) so that dist/config-fast.code holds the functions a validation runs.
 */
export async function primeConfigFast(distDir: string, configFile: string): Promise<void> {
  rmSync(join(distDir, 'config-fast.code'), { force: true });
  const compiled = compiledFast(distDir);
  if (!compiled) throw new Error('dist/config-fast.cjs is missing');
  const text = existsSync(configFile) ? readFileSync(configFile, 'utf8') : undefined;
  await compiled.fast.fastConfig(configFile, text, fieldDefaults(), {});
  compiled.saveCache();
}
