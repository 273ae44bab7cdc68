import { createRequire } from 'node:module';

// Some CommonJS packages require, when they load, a module that they use only
// on a path Broadsheet never takes. Loading the digest's MJML (issue 16: a
// one-article rebuild spent most of its digest time loading modules) pulled in:
// - undici (~0.3 s), which cheerio's index requires for `fromURL` only (both
//   cheerios: mjml-core's and juice's own);
// - cssnano-preset-default with svgo and caniuse-lite (~0.4 s), which cssnano's
//   index requires for the preset named 'default', where MJML asks for 'lite';
// - web-resource-inliner (~0.1 s), which juice requires for `juiceResources`.
// (js-beautify, which mjml-core requires for its deprecated `beautify`, cannot
// be deferred: mjml-core destructures it at load.)
//
// deferRequire puts a stand-in into require's cache under the file the real
// module resolves to from the package that requires it. Any use of the
// stand-in (a property read, a call, `new`, `in`, listing its keys) loads the
// real module and answers from it, so a path that does use it still works;
// from then on require gives the real module. A chain that no longer resolves
// (a dependency dropped or moved) is skipped: then the module just loads as
// before.

type Chain = readonly [string, ...string[]];

export interface Deferred {
  /** The package Broadsheet requires, …the packages each requires, then the deferred module. */
  chain: Chain;
  /**
   * The stand-in answers `__esModule` with true without loading the module.
   * For a requirer that wraps the module in TypeScript's `__importStar`, which
   * copies every export (a load) unless the module says it is an ES module;
   * given true it keeps the module as it is, and reads its exports on use.
   */
  esModule?: boolean;
}

export const MJML_DEFERRED: readonly Deferred[] = [
  { chain: ['mjml', 'mjml-core', 'cheerio', 'undici'], esModule: true },
  // juice has its own cheerio (1.0), with its own undici.
  { chain: ['mjml', 'mjml-core', 'juice', 'cheerio', 'undici'], esModule: true },
  { chain: ['mjml', 'mjml-core', 'htmlnano', 'cssnano', 'cssnano-preset-default'] },
  { chain: ['mjml', 'mjml-core', 'juice', 'web-resource-inliner'] },
];

const require = createRequire(import.meta.url);
// The CommonJS Module class, to make the stand-ins' cache entries.
const Module = require('node:module') as typeof import('node:module') & { new (id: string): NodeJS.Module };

/** The file `chain`'s last module resolves to from its requirer, and a require that loads it from there. */
function resolveChain(chain: Chain): { file: string; load: () => unknown } | undefined {
  try {
    let from = require;
    let file = '';
    for (const name of chain) {
      file = from.resolve(name);
      if (name !== chain[chain.length - 1]) from = createRequire(file);
    }
    const last = chain[chain.length - 1]!;
    const requirer = from;
    return { file, load: () => requirer(last) };
  } catch {
    return undefined;
  }
}

/**
 * Stand-ins for `modules` (once per module; never over a module already loaded).
 * Returns the files deferred, for tests.
 */
export function deferRequire(modules: readonly Deferred[]): string[] {
  const deferred: string[] = [];
  for (const { chain, esModule } of modules) {
    const r = resolveChain(chain);
    if (!r || require.cache[r.file]) continue;
    let real: unknown;
    const load = (): object => {
      if (real === undefined) {
        if (require.cache[r.file]?.exports === stub) delete require.cache[r.file];
        real = r.load();
      }
      return real as object;
    };
    // A function target, so that a call or `new` can be forwarded too.
    const stub: object = new Proxy(function deferred() {}, {
      get: (_, key) => (esModule && key === '__esModule' ? true : Reflect.get(load(), key)),
      has: (_, key) => Reflect.has(load(), key),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_, key) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), key);
        // A proxy may not report a property as non-configurable unless its target has it so.
        return d && { ...d, configurable: true };
      },
      getPrototypeOf: () => Reflect.getPrototypeOf(load()),
      apply: (_, self, args) => Reflect.apply(load() as (...a: unknown[]) => unknown, self, args),
      construct: (_, args) => Reflect.construct(load() as new (...a: unknown[]) => object, args),
    });
    const m = new Module(r.file);
    m.filename = r.file;
    m.loaded = true;
    m.exports = stub;
    require.cache[r.file] = m;
    deferred.push(r.file);
  }
  return deferred;
}
