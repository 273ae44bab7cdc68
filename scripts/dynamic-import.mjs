// A computed import() in the compiled CLI (scripts/build.mjs routes them here):
// the card layouts in templates/cards/*.ts and other TypeScript loaded at run
// time. `base` is the importing source file's URL, so a relative specifier
// means what it means under tsx.
//
// A TypeScript file whose own imports are all relative (and TypeScript or
// JavaScript) or Node built-ins — the card layouts: their `import type`s of
// src/ vanish — is compiled by esbuild into one module in memory and imported
// from a data: URL. Registering tsx instead (what any other target still gets,
// once, on first use) starts Node's module-hooks worker thread for the rest of
// the process: ~40 MB of a build's peak RSS for eight small files (issue 16).
// esbuild's service process is stopped as soon as no compile is in flight.
//
// What esbuild made is kept in dist/cache/imports/ (emptied by every build of
// dist/, so never another esbuild's or another option set's output), with the
// SHA-256 of every file it read: a process (a card worker, most often) that
// imports a layout nothing changed in takes it from there, without starting
// esbuild's service (~60 ms to spawn, then the wait for the compile: ~0.2 s
// of a one-article rebuild's card worker). An edited file, or an unreadable
// or foreign cache entry, compiles again.
let tsx;
let esbuild;
let inFlight = 0;
const compiled = new Map();

export async function __bsImport(base, specifier) {
  let spec = String(specifier);
  if (spec.startsWith('./') || spec.startsWith('../')) spec = new URL(spec, base).href;
  if (/\.[cm]?tsx?(?:[?#].*)?$/.test(spec)) {
    const url = spec.startsWith('file:') ? await selfContained(spec) : undefined;
    if (url) return import(url);
    tsx ??= import('tsx/esm/api').then((m) => m.register());
    await tsx;
  }
  return import(spec);
}

/** A data: URL of the file bundled with its relative imports, or undefined when it needs a loader. */
function selfContained(fileUrl) {
  let p = compiled.get(fileUrl);
  if (!p) {
    p = compile(fileUrl);
    compiled.set(fileUrl, p);
  }
  return p;
}

const CACHE_DIR = new URL('../dist/cache/imports/', import.meta.url);

async function compile(fileUrl) {
  const cached = await fromCache(fileUrl);
  if (cached !== undefined) return cached || undefined;
  const started = Date.now();
  const { url, inputs } = await compileNow(fileUrl);
  await toCache(fileUrl, url, inputs, started);
  return url;
}

// A file whose mtime is this close to the compile's start, or later, may have
// changed while esbuild read it: its digest now need not be what was compiled,
// so nothing is kept (mtimes may be as coarse as a second or two).
const EDIT_WINDOW_MS = 2000;

async function cacheEntry(fileUrl) {
  const { createHash } = await import('node:crypto');
  return new URL(`${createHash('sha256').update(fileUrl).digest('hex').slice(0, 32)}.json`, CACHE_DIR);
}

async function digestOf(file) {
  const { createHash } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** The data: URL ('' for "needs a loader") kept for fileUrl, when every file it was made from is unchanged; else undefined. */
async function fromCache(fileUrl) {
  try {
    const { readFile } = await import('node:fs/promises');
    const entry = JSON.parse(await readFile(await cacheEntry(fileUrl), 'utf8'));
    if (entry.file !== fileUrl || typeof entry.url !== 'string' || !entry.inputs) return undefined;
    for (const [file, digest] of Object.entries(entry.inputs))
      if ((await digestOf(file)) !== digest) return undefined;
    return entry.url;
  } catch {
    return undefined; // no entry, a file gone, a torn or foreign entry: compile
  }
}

async function toCache(fileUrl, url, files, started) {
  try {
    const { mkdir, rename, stat, writeFile } = await import('node:fs/promises');
    const inputs = {};
    for (const file of files) {
      if ((await stat(file)).mtimeMs > started - EDIT_WINDOW_MS) return;
      inputs[file] = await digestOf(file);
    }
    await mkdir(CACHE_DIR, { recursive: true });
    const entry = await cacheEntry(fileUrl);
    const tmp = new URL(
      `${entry.pathname.split('/').pop()}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
      CACHE_DIR,
    );
    await writeFile(tmp, JSON.stringify({ file: fileUrl, url: url ?? '', inputs }));
    await rename(tmp, entry);
  } catch {
    // A cache that cannot be written (a read-only install) only costs the next process a compile.
  }
}

async function compileNow(fileUrl) {
  const { fileURLToPath } = await import('node:url');
  const { builtinModules } = await import('node:module');
  esbuild ??= await import('esbuild');
  const builtin = new Set(builtinModules);
  inFlight++;
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [fileURLToPath(fileUrl)],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
      sourcemap: 'inline',
      sourcesContent: false,
    });
  } catch (err) {
    // esbuild names the file, line and column of a syntax error: keep its words.
    const first = err?.errors?.[0];
    if (!first) throw err;
    const at = first.location
      ? `${first.location.file}:${first.location.line}:${first.location.column + 1}: `
      : '';
    throw new SyntaxError(`${at}${first.text}`);
  } finally {
    if (--inFlight === 0) setImmediate(() => inFlight === 0 && esbuild.stop());
  }
  const { resolve } = await import('node:path');
  const inputs = Object.keys(result.metafile.inputs).map((f) => resolve(process.cwd(), f));
  const out = Object.values(result.metafile.outputs)[0];
  const foreign = out.imports.some((i) => !builtin.has(i.path.replace(/^node:/, '')));
  const text = result.outputFiles[0].text;
  // import.meta inside a data: module would not point at the file: leave such files to tsx.
  if (foreign || /\bimport\.meta\b/.test(text)) return { url: undefined, inputs };
  return { url: `data:text/javascript;base64,${Buffer.from(text).toString('base64')}`, inputs };
}
