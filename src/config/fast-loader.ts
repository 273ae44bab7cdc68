import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

// fast.ts as the build also compiles it: one CommonJS file, dist/config-fast.cjs,
// with zod, yaml and the config schemas inside, run with V8's code cache
// (dist/config-fast.code). ES modules get no code cache before Node 22, and
// compiling zod and yaml (and the functions a validation runs) was about 40 %
// of a config-cache miss (issue 16). The cache is written by the build
// (defaults.ts primeConfigFast) and again by a start that finds it missing or
// rejected (another Node or V8 flags).
//
// Only plain data crosses: the config, or undefined (fast.ts never throws).

type FastModule = Pick<typeof import('./fast.ts'), 'fastConfig' | 'buildDefaults'>;

export interface CompiledFast {
  fast: FastModule;
  /** Whether V8 took the code cache. */
  cached: boolean;
  /** Write the code cache when it was missing or rejected: call after the validation, so it holds what ran. True when written. */
  saveCache(): boolean;
}

// CommonJS's wrapper, which the build writes into the file (scripts/build.mjs).
const head = '(function (exports, require, module, __filename, __dirname) {';

/** dist/config-fast.cjs compiled with its code cache, or undefined when there is none. */
export function compiledFast(distDir: string): CompiledFast | undefined {
  const file = join(distDir, 'config-fast.cjs');
  const codeFile = join(distDir, 'config-fast.code');
  let source: string;
  let stamp: string;
  try {
    stamp = statStamp(file);
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (!source.startsWith(head)) return undefined;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(codeFile);
  } catch {
    cachedData = undefined;
  }
  const module = { exports: {} as FastModule };
  let script: Script;
  try {
    script = new Script(source, { filename: file, cachedData });
    script.runInThisContext()(module.exports, createRequire(file), module, file, distDir);
  } catch {
    return undefined; // a damaged file: the caller uses the module itself
  }
  const cached = cachedData !== undefined && !script.cachedDataRejected;
  return {
    fast: module.exports,
    cached,
    saveCache() {
      if (cached) return false;
      const tmp = `${codeFile}.${process.pid}.tmp`;
      try {
        // Not over a newer build's file: V8 checks only a cache's source length.
        if (statStamp(file) !== stamp) return false;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, codeFile);
        return true;
      } catch {
        // A read-only dist/ only costs the next start the compile.
        rmSync(tmp, { force: true });
        return false;
      }
    },
  };
}

const statStamp = (file: string) => {
  const s = statSync(file);
  return `${s.mtimeMs} ${s.size}`;
};
