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

async function compile(fileUrl) {
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
  const out = Object.values(result.metafile.outputs)[0];
  const foreign = out.imports.some((i) => !builtin.has(i.path.replace(/^node:/, '')));
  const text = result.outputFiles[0].text;
  // import.meta inside a data: module would not point at the file: leave such files to tsx.
  if (foreign || /\bimport\.meta\b/.test(text)) return undefined;
  return `data:text/javascript;base64,${Buffer.from(text).toString('base64')}`;
}
