import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's folder of prebuilt out/ trees (tests/helpers/prebuilt.ts); emptied when the run ends. */
    prebuiltDir: string;
  }
}

/**
 * Once per `vitest run`, before any test file: a fresh folder for the
 * prebuilt out/ trees test files share (tests/helpers/prebuilt.ts). Per run,
 * never across runs, so a build is always one of this run's code.
 */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'bs-prebuilt-'));
  project.provide('prebuiltDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
