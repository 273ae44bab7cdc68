import { type CatalogEntry, catalog, type ErrorCode, type ParamsOf } from './catalog.ts';

export { catalog, type ErrorCode } from './catalog.ts';

/** Every error Broadsheet raises on purpose: a catalog code plus its parameters. */
export class BroadsheetError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly params: ParamsOf<C>;
  readonly hint: string;
  readonly exitCode: 1 | 2;

  constructor(code: C, params: ParamsOf<C>, options?: { cause?: unknown }) {
    const e = catalog[code] as unknown as CatalogEntry<ParamsOf<C>>;
    super(e.message(params), options);
    this.name = `BroadsheetError[${code}]`;
    this.code = code;
    this.params = params;
    this.hint = typeof e.hint === 'function' ? e.hint(params) : e.hint;
    this.exitCode = e.exit;
  }
}

/** A UsageError makes the CLI print help and exit 2. */
export class UsageError extends BroadsheetError<'USAGE'> {
  constructor(detail: string) {
    super('USAGE', { detail });
  }
}

export const isBroadsheetError = (e: unknown): e is BroadsheetError => e instanceof BroadsheetError;

/** The chain "message ← cause ← cause", printed once; stacks only with DEBUG. */
export function formatErrorChain(err: unknown, debug = Boolean(process.env.DEBUG)): string {
  const lines: string[] = [];
  let cur: unknown = err;
  let depth = 0;
  while (cur && depth < 8) {
    if (cur instanceof BroadsheetError) {
      lines.push(`${depth ? '  caused by: ' : 'error '}${cur.code}: ${cur.message}`);
      if (depth === 0) lines.push(`hint: ${cur.hint}`);
    } else if (cur instanceof Error) {
      const code = (cur as { code?: unknown }).code;
      lines.push(`${depth ? '  caused by: ' : 'error: '}${cur.message}${code ? ` (${String(code)})` : ''}`);
    } else {
      lines.push(`${depth ? '  caused by: ' : 'error: '}${String(cur)}`);
    }
    if (debug && cur instanceof Error && cur.stack) lines.push(cur.stack);
    cur = cur instanceof Error ? cur.cause : undefined;
    depth++;
  }
  return lines.join('\n');
}
