import { execFileSync } from 'node:child_process';

/** True when `program` is on PATH. */
export function hasProgram(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * CI is exactly `CI=true` (what .ci/run exports). Any other value — CI=0,
 * CI=false, an empty CI= left in a shell — is a developer's machine, where a
 * missing program skips rather than fails.
 */
export const isCI = (env: NodeJS.ProcessEnv = process.env) => env.CI === 'true';

/**
 * For tests that need a system program: in CI (CI=true, where .ci/run installs
 * it) a missing program is a failure, never a skip. Elsewhere the test is
 * skipped with a message naming the Debian package.
 * Use as `describe.skipIf(!needs('chromium', 'chromium'))(…)`.
 */
export function needs(program: string, debianPackage: string): boolean {
  if (hasProgram(program)) return true;
  if (isCI()) throw new Error(`${program} is missing in CI: .ci/run must apt-get install ${debianPackage}`);
  console.warn(
    `SKIPPED: needs ${program} — install the Debian package "${debianPackage}" (apt-get install ${debianPackage})`,
  );
  return false;
}
