import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureDist } from '../../bench/_dist.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's folder of prebuilt out/ trees (tests/helpers/prebuilt.ts); emptied when the run ends. */
    prebuiltDir: string;
  }
}

/**
 * Once per `vitest run`, before any test file:
 * - dist/ brought up to date with the sources (bench/_dist.ts ensureDist:
 *   scripts/build.mjs, ~1–2 s, only when bin/broadsheet.js would not run it),
 *   so an edit since the last build does not leave it stale. The tests that spawn the
 *   CLI then run the compiled CLI, as a user does, instead of the tsx
 *   fallback that bin/broadsheet.js takes for stale output (~1 s more CPU a
 *   start, hundreds of starts a run); the code is the same sources either
 *   way. Tests of the runtime choice itself build their own copy
 *   (tests/helpers/built-copy.ts) or force BROADSHEET_RUNTIME=tsx. Before,
 *   fanout-acceptance's script (bench/_dist.ts) rebuilt dist/ in the middle
 *   of the run, so which CLI ran depended on the order of the files. A build
 *   that fails leaves dist/ stale and the CLI on tsx, as before.
 * - a fresh folder for the prebuilt out/ trees test files share
 *   (tests/helpers/prebuilt.ts). Per run, never across runs, so a build is
 *   always one of this run's code.
 */
export default function setup(project: TestProject) {
  try {
    ensureDist();
  } catch (err) {
    console.warn(`global setup: ${(err as Error).message}; the CLI runs through tsx`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'bs-prebuilt-'));
  project.provide('prebuiltDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
