import pg from 'pg';
import { BroadsheetError, isBroadsheetError } from '../../errors/index.ts';
import type { StoreConfig } from '../config.ts';
import { connectionLost } from './lost.ts';

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

/** The URL with its password replaced: what messages and logs may show. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:/@]+):[^@]*@/, '://$1:***@');
  }
}

// int8 (count(*), bigint ids, epoch-ms columns) as a JS number: every value the
// schema keeps is below 2^53. numeric stays a string.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * A pool on the PostgreSQL store, checked with one round trip, so a wrong URL
 * fails here with a catalog code (unreachable, timeout, auth, TLS, no database)
 * rather than in the middle of a send. Idle-client errors (a server restart)
 * are logged by pg's pool and never crash the process: the next checkout
 * connects again.
 */
export async function openPgPool(
  url: string,
  cfg: Pick<StoreConfig, 'poolMax' | 'connectTimeoutMs' | 'statementTimeoutMs'>,
  applicationName = 'broadsheet',
): Promise<PgPool> {
  const pool = new pg.Pool({
    connectionString: url,
    max: cfg.poolMax,
    connectionTimeoutMillis: cfg.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: cfg.statementTimeoutMs,
    // A TCP keepalive finds a peer that vanished (host down, NAT dropped) while idle.
    keepAlive: true,
    application_name: applicationName,
    types,
  });
  pool.on('error', () => {
    // An idle client lost its connection; pg removes it from the pool.
  });
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (err) {
    await pool.end().catch(() => {});
    throw pgError(err, url, cfg.connectTimeoutMs);
  }
}

const AUTH = new Set(['28P01', '28000']);

/** The catalog error for a failure on the PostgreSQL store at `url`. */
export function pgError(err: unknown, url: string, timeoutMs?: number): BroadsheetError {
  if (isBroadsheetError(err)) return err;
  const e = err as { code?: string; message?: string };
  const store = displayUrl(url);
  const detail = String(e.message ?? err).slice(0, 300);
  const code = e.code ?? '';
  if (AUTH.has(code)) return new BroadsheetError('STORE_PG_AUTH', { store, detail }, { cause: err });
  if (code === '3D000')
    return new BroadsheetError('STORE_PG_NO_DATABASE', { store, database: databaseOf(url) }, { cause: err });
  if (/timeout|timed out/i.test(detail) && !code)
    return new BroadsheetError('STORE_PG_TIMEOUT', { store, ms: timeoutMs ?? 0 }, { cause: err });
  if (/ssl|tls|certificate/i.test(detail) && !/^[0-9A-Z]{5}$/.test(code))
    return new BroadsheetError('STORE_PG_TLS', { store, detail }, { cause: err });
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'].includes(code))
    return new BroadsheetError('STORE_PG_UNREACHABLE', { store, detail }, { cause: err });
  if (connectionLost(err))
    return new BroadsheetError('STORE_PG_UNREACHABLE', { store, detail }, { cause: err });
  return new BroadsheetError('STORE_PG_FAILED', { store, detail }, { cause: err });
}

function databaseOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
  } catch {
    return '?';
  }
}

/**
 * Run `fn` in one transaction on one connection: COMMIT when it returns,
 * ROLLBACK when it throws (the error is passed on). The client goes back to
 * the pool either way; a client whose connection broke is discarded.
 */
export async function withTransaction<T>(
  pool: PgPool,
  fn: (c: PgClient) => Promise<T>,
  isolation: 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE' = 'READ COMMITTED',
): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  try {
    await c.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    try {
      await c.query('ROLLBACK');
    } catch (e) {
      broken = e as Error;
    }
    throw err;
  } finally {
    c.release(broken);
  }
}
