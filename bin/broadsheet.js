#!/usr/bin/env node
// The CLI starts from dist/ (JavaScript compiled by scripts/build.mjs, which
// `npm install` / `npm ci` run as `prepare`) when dist/ is current, and from
// the TypeScript sources through tsx otherwise: registering tsx and compiling
// on every start costs ~6× a bare `node` (issue 16).
//
// Current means: every source file dist/ was built from still has the mtime
// and size dist/stamp.json recorded (one stat each, a few ms for ~230 files).
// An edited, added-to or checked-out file changes its importer's or its own
// mtime, so edited sources never run as stale output: they run through tsx
// until `npm run build`.
//
// BROADSHEET_RUNTIME=tsx forces the sources; BROADSHEET_DEBUG_RUNTIME=1
// prints on stderr which one ran and why.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

let stamp;

/** undefined when dist/ may run, else the reason it may not. */
function staleReason() {
  if (process.env.BROADSHEET_RUNTIME === 'tsx') return 'BROADSHEET_RUNTIME=tsx';
  try {
    stamp = JSON.parse(readFileSync(`${root}dist/stamp.json`, 'utf8'));
  } catch {
    return 'no dist/ (run npm run build)';
  }
  if (stamp.version !== 1 || !stamp.files) return 'dist/stamp.json from another build script';
  for (const [file, [mtimeMs, size]] of Object.entries(stamp.files)) {
    // Plain string paths: half the cost of URLs over ~250 files.
    const s = statSync(root + file, { throwIfNoEntry: false });
    if (!s) return `${file} is gone`;
    if (s.mtimeMs !== mtimeMs || s.size !== size) return `${file} changed since the build`;
  }
  return undefined;
}

const stale = staleReason();
const debug = process.env.BROADSHEET_DEBUG_RUNTIME === '1' || process.env.BROADSHEET_DEBUG_RUNTIME === 'true';
let main;
if (stale) {
  if (debug) process.stderr.write(`broadsheet: runtime tsx (${stale})\n`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
} else {
  if (debug) process.stderr.write('broadsheet: runtime dist\n');
  // Stacks are printed only with DEBUG (src/errors formatErrorChain); then they
  // name the .ts files and lines (dist/*.js.map). Off otherwise: Node reads and
  // parses every chunk's map as it loads, a tenth of a start.
  if (process.env.DEBUG) process.setSourceMapsEnabled(true);
  // This build's id keys the cache of parsed configuration (src/config/cache.ts),
  // kept in dist/cache/ and emptied by every build. Not an environment variable:
  // a child process may run other code (tsx) and must not inherit it.
  if (typeof stamp.buildId === 'string')
    globalThis.__broadsheetBuild = { id: stamp.buildId, cacheDir: `${root}dist/cache` };
  ({ main } = await import('../dist/main.js'));
}
await main(process.argv);
