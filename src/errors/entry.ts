// One catalog entry's shape (see catalog.ts); its own file so the per-area
// catalog files can use it without importing catalog.ts (no import cycle).
export interface CatalogEntry<P> {
  title: string;
  message: (p: P) => string;
  hint: string | ((p: P) => string);
  /** Exit code when this error ends a command: 2 bad usage/config, 1 failed work. */
  exit: 1 | 2;
}

type Params = Record<string, unknown>;

export const entry = <P extends Params>(e: CatalogEntry<P>) => e;
