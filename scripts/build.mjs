// `npm run build` (and `prepare`, which npm install / npm ci run): compile the
// CLI to JavaScript in dist/ so a start does not pay tsx's TypeScript compile
// (issue 16). bin/broadsheet.js runs dist/ only while dist/stamp.json still
// matches every source file it was built from; otherwise it falls back to
// tsx, so a checkout with edited sources never runs stale output.
//
// The bundle is ESM with packages left external (node_modules resolve from
// the package root as before) and code splitting, so a stage imported lazily
// in src stays a separate chunk loaded only when it runs.
//
// import.meta.url / import.meta.dirname are rewritten to the *source* file's
// location (src/…/x.ts): code that finds templates, fonts, package.json, the
// card worker or review assets next to itself finds the same files from
// dist/ as under tsx. A computed import() (not a string literal: the card
// layouts in templates/cards/*.ts, review/publish.ts) goes through
// __bsImport, which registers tsx first when the target is TypeScript.

import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const STAMP_VERSION = 1;

// `import { z } from 'zod'` binds zod's `z`, a namespace object re-exported
// whole: esbuild must keep every one of zod's ~300 exports (JSON Schema,
// codecs, ISO formats…) in the chunk. `import * as z from 'zod'` (what zod's
// docs write) reads the same names, each `z.x` a static reference esbuild can
// tree-shake: the zod chunk halves (390 → ~200 KB), which a start that parses
// the config compiles and runs (issue 16). One line for one line: source maps
// keep their line numbers.
const zodNamespace = (text) => text.replace(/^import \{ z \} from 'zod';/gm, "import * as z from 'zod';");

/** import.meta.* → the source file's own URL, so relative lookups do not move to dist/. */
const sourceLocation = {
  name: 'source-location',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
      let text = zodNamespace(readFileSync(args.path, 'utf8'));
      const rel = relative(dist, args.path).split('\\').join('/');
      const uses = /\bimport\.meta\.(url|dirname|filename)\b/.test(text);
      const dynamic = /\bimport\((?!\s*['"`])/.test(text);
      if (!uses && !dynamic) return { contents: text, loader: 'ts' };
      const head = [];
      // A relative computed import resolves against the source file too.
      if (dynamic) text = text.replace(/\bimport\((?!\s*['"`])/g, '__bsImport(import.meta.url, ');
      if (uses || dynamic) {
        text = text
          .replace(/\bimport\.meta\.url\b/g, '__bsUrl')
          .replace(/\bimport\.meta\.dirname\b/g, '__bsDirname')
          .replace(/\bimport\.meta\.filename\b/g, '__bsFilename');
        head.push(
          `import { fileURLToPath as __bsPath } from 'node:url';`,
          `import { dirname as __bsDir } from 'node:path';`,
          `const __bsUrl = new URL(${JSON.stringify(rel)}, import.meta.url).href;`,
          `const __bsFilename = __bsPath(__bsUrl);`,
          `const __bsDirname = __bsDir(__bsFilename);`,
        );
      }
      if (dynamic)
        head.push(`import { __bsImport } from ${JSON.stringify(join(root, 'scripts/dynamic-import.mjs'))};`);
      // One line, so the sourcemap's line numbers stay those of the source.
      return { contents: `${head.join(' ')}${text}`, loader: 'ts' };
    });
  },
};

// Pure-JS packages bundled in rather than left in node_modules: zod 4 is ~230
// small ES modules, each its own resolve + read + compile at start; bundled it
// is one chunk. The rest stay external (native addons, workers, packages that
// find files next to themselves).
const BUNDLED = new Set(['zod', 'yaml']);
const externals = {
  name: 'externals',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      const name = args.path.startsWith('@')
        ? args.path.split('/').slice(0, 2).join('/')
        : args.path.split('/')[0];
      return BUNDLED.has(name) ? undefined : { external: true };
    });
  },
};

// zod re-exports all 40-odd of its message locales (340 KB, half the zod
// chunk, parsed on every start that reads the config); Broadsheet words its
// own messages (src/util/issues.ts) and uses only zod's default, English.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-locales' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

// The value of each config field a file leaves out, from this build's own
// schemas (src/config/defaults.ts), for src/config/fast.ts: a start that
// validates a file then builds only the sections the file has. Written whole
// then renamed; checked to come back identical through v8 serialization.
async function writeConfigDefaults(buildId) {
  const file = join(dist, 'config-defaults.v8');
  rmSync(file, { force: true });
  // The query makes a second build in the same process load the new chunk.
  const url = `${pathToFileURL(join(dist, 'config-defaults.js')).href}?${buildId}`;
  const entry = (await import(url)).defaultsEntry(buildId);
  const bytes = serialize(entry);
  if (!isDeepStrictEqual(deserialize(bytes), entry))
    throw new Error('config defaults do not survive v8 serialization');
  writeFileSync(`${file}.tmp`, bytes);
  renameSync(`${file}.tmp`, file);
}

// yaml's ES module build (the one it gives bundlers; same parser) instead of
// its CommonJS one: esbuild tree-shakes it (264 → ~190 KB) and it needs no
// CommonJS wrappers run at load. Its log.js differs from the CommonJS one in
// how a warning is written: the CommonJS one's, process.emitWarning, is kept.
const yamlEsm = {
  name: 'yaml-esm',
  setup(build) {
    build.onResolve({ filter: /^yaml$/ }, (args) => ({
      path: join(
        dirname(createRequire(join(args.resolveDir, 'x.js')).resolve('yaml/package.json')),
        'browser/dist/index.js',
      ),
    }));
    build.onLoad({ filter: /[\\/]node_modules[\\/]yaml[\\/]browser[\\/]dist[\\/]log\.js$/ }, () => ({
      contents: `export function debug(logLevel, ...messages) { if (logLevel === 'debug') console.log(...messages); }
export function warn(logLevel, warning) {
  if (logLevel === 'debug' || logLevel === 'warn') {
    if (typeof process.emitWarning === 'function') process.emitWarning(warning);
    else console.warn(warning);
  }
}`,
    }));
  },
};

// src/config/fast.ts again, as one CommonJS file with zod, yaml and the config
// schemas inside: src/config/fast-loader.ts runs it with V8's code cache,
// which ES modules do not get before Node 22. Then run once (on the checkout's
// broadsheet.config.yaml, if any) to write that cache, dist/config-fast.code.
async function buildConfigFast(buildId, quiet) {
  // Never the previous build's cache next to this build's file.
  rmSync(join(dist, 'config-fast.code'), { force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/config/fast.ts'],
    outfile: join(dist, 'config-fast.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: quiet ? 'error' : 'warning',
    plugins: [yamlEsm, externals, zodEnglishOnly, zodNamespaceCjs],
    // No comments: ASCII only, so V8 keeps the source as one byte per character
    // (the comments' CJK and dashes made it two), and less to read. Its errors
    // never surface (fast.ts returns undefined instead), so its stacks need no map.
    minifyWhitespace: true,
    // CommonJS's wrapper written into the file: the loader compiles the text as read.
    banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
    footer: { js: '})' },
  });
  const url = `${pathToFileURL(join(dist, 'config-defaults.js')).href}?${buildId}`;
  await (await import(url)).primeConfigFast(dist, join(root, 'broadsheet.config.yaml'));
}

/** zodNamespace for the CommonJS build, which does not rewrite import.meta (none of its files use it). */
const zodNamespaceCjs = {
  name: 'zod-namespace',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (/\bimport\.meta\b|\bimport\((?!\s*['"`])/.test(text))
        throw new Error(`${args.path}: import.meta or a computed import() in the config-fast.cjs build`);
      return { contents: zodNamespace(text), loader: 'ts' };
    });
  },
};

export async function build({ quiet = false } = {}) {
  const started = performance.now();
  // The stamp goes first and comes back last: a CLI started mid-build runs
  // through tsx. Files are overwritten in place rather than the folder removed,
  // so a CLI already running from dist/ still finds its unchanged chunks.
  rmSync(join(dist, 'stamp.json'), { force: true });
  // Caches keyed by the previous build (parsed configuration: src/config/cache.ts).
  rmSync(join(dist, 'cache'), { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    // config-defaults: what each config field validates to when a file leaves it out, computed below.
    // card-worker: the card pool's worker (src/cards/pool.ts), so a worker does not compile the card
    // modules through tsx on start.
    entryPoints: {
      main: 'src/cli/main.ts',
      'config-defaults': 'src/config/defaults.ts',
      'card-worker': 'src/cards/worker.ts',
    },
    outdir: dist,
    // Flat: every chunk sits directly in dist/, which sourceLocation relies on.
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    metafile: true,
    logLevel: quiet ? 'error' : 'warning',
    plugins: [yamlEsm, externals, zodEnglishOnly, sourceLocation],
    // yaml is CommonJS: its require('process') etc. need a real require in ESM.
    banner: {
      js: "import { createRequire as __bsCreateRequire } from 'node:module'; const require = __bsCreateRequire(import.meta.url);",
    },
  });
  // Every source file the bundle was made from, with the mtime and size it had:
  // bin/broadsheet.js checks them before trusting dist/.
  const inputs = Object.keys(result.metafile.inputs)
    .filter((f) => !f.startsWith('node_modules/') && !f.startsWith('../') && !f.includes(':'))
    .concat('scripts/build.mjs', 'scripts/dynamic-import.mjs')
    .sort();
  const files = {};
  for (const f of inputs) {
    const s = statSync(join(root, f));
    files[f] = [s.mtimeMs, s.size];
  }
  // Which module pulls in which (esbuild's analyzer reads it: npx esbuild --analyze).
  writeFileSync(join(dist, 'meta.json'), JSON.stringify(result.metafile));
  // Chunks of earlier builds that this one did not write.
  const written = new Set(Object.keys(result.metafile.outputs).map((f) => resolve(root, f)));
  for (const f of readdirSync(dist))
    if (/\.js(\.map)?$/.test(f) && !written.has(join(dist, f))) rmSync(join(dist, f), { force: true });
  // buildId: new on every build; what dist/ caches (the parsed config) is keyed by it.
  const stamp = { version: STAMP_VERSION, buildId: randomUUID(), files };
  await writeConfigDefaults(stamp.buildId);
  await buildConfigFast(stamp.buildId, quiet);
  writeFileSync(join(dist, 'stamp.json'), `${JSON.stringify(stamp)}\n`);
  if (!quiet)
    console.log(`built dist/ from ${inputs.length} files in ${Math.round(performance.now() - started)} ms`);
  return { files: inputs.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await build();
  } catch (err) {
    // As `prepare` (npm install / npm ci) a failed build must not fail the
    // install: without dist/ the CLI runs the sources through tsx, as before.
    rmSync(dist, { recursive: true, force: true });
    if (process.env.npm_lifecycle_event !== 'prepare') throw err;
    console.warn(`broadsheet: could not build dist/ (${err.message}); the CLI will run through tsx`);
  }
}
