// Whether a PostgreSQL error is a lost connection. No runtime code of `pg`
// here: the ledger (which the SQLite path imports too) calls it on every
// failed `sent` mark without loading the driver.

// The server ended the session (pg_terminate_backend, a shutdown or crash
// restart: 57P01–57P03) or the connection broke (SQLSTATE class 08, a reset, pg's
// own "Connection terminated"). The statement may or may not have run.
const LOST = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'EPIPE']);

/** True when `err` (or the error it wraps) is a lost connection rather than a statement the server refused. */
export function connectionLost(err: unknown): boolean {
  for (
    let e = err as { code?: string; message?: string; cause?: unknown } | undefined, i = 0;
    e && i < 4;
    i++
  ) {
    if (LOST.has(e.code ?? '') || /^08[0-9A-Z]{3}$/.test(e.code ?? '')) return true;
    if (/Connection terminated|connection.*(closed|ended)/i.test(String(e.message ?? ''))) return true;
    e = e.cause as typeof e;
  }
  return false;
}
