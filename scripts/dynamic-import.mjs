// A computed import() in the compiled CLI (scripts/build.mjs routes them here):
// the card layouts in templates/cards/*.ts and other TypeScript loaded at run
// time need tsx's loader, which the compiled CLI does not otherwise start
// (registering it costs more than the whole start). It is registered once,
// on the first such import. `base` is the importing source file's URL, so a
// relative specifier means what it means under tsx.
let tsx;

export async function __bsImport(base, specifier) {
  let spec = String(specifier);
  if (spec.startsWith('./') || spec.startsWith('../')) spec = new URL(spec, base).href;
  if (/\.[cm]?tsx?(?:[?#].*)?$/.test(spec)) {
    tsx ??= import('tsx/esm/api').then((m) => m.register());
    await tsx;
  }
  return import(spec);
}
