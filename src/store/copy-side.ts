import { hostname } from 'node:os';
import type { TableInfo } from './copy-schema.ts';
import { alive } from './lease.ts';

/** A live lease on a store: who holds it and for how long still. */
export interface LiveLease {
  /** The lease's name (send:<edition>), or `send:<edition> worker claim` for rows a fan-out worker holds. */
  name: string;
  holder: string;
  pid: number;
  host: string;
  msLeft: number;
}

/** Either end of a copy: the schema it has, the rows it holds, its send leases. */
export interface Side {
  kind: 'sqlite' | 'postgres';
  /** The store as messages show it (no password). */
  display: string;
  /** PostgreSQL: the application_name of this side's connection (the same-database check). */
  tag?: string;
  version(): Promise<number>;
  tables(): Promise<TableInfo[]>;
  /** Live leases whose name starts with `prefix` (e.g. 'send:'). */
  liveLeases(prefix: string): Promise<LiveLease[]>;
  /** Live claims of ledger rows by fan-out workers (sends.worker / claimed_until), one per worker × edition. */
  liveClaims(): Promise<LiveLease[]>;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

/** The store copied from: read inside one consistent snapshot. */
export interface SourceSide extends Side {
  /** Start the snapshot every later read sees (SQLite: a read transaction; PG: REPEATABLE READ READ ONLY). */
  snapshot(): Promise<void>;
  /** The rows of a table in batches of at most `size`, as arrays in `columns` order. */
  read(table: string, columns: string[], size: number): AsyncIterable<unknown[][]>;
}

/** The store copied to: written in one transaction. */
export interface TargetSide extends Side {
  /** Bring the schema up to date (after the same-store check: never migrate a source by mistake). */
  migrate(): Promise<void>;
  /** Open the one write transaction; keep other writers of these tables out until it ends. */
  begin(tables: string[]): Promise<void>;
  /** Delete every row of these tables (children first), inside the transaction. */
  empty(tables: string[]): Promise<void>;
  insert(table: string, columns: string[], rows: unknown[][]): Promise<void>;
  /** After the rows: identity sequences past the copied ids (PostgreSQL). */
  finish(tables: TableInfo[]): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * Whether a lease row still stands: not expired, and — the rule acquireLease
 * applies (src/store/lease.ts) — not held by a process of this host that no
 * longer exists.
 */
export function standing(row: { host: string; pid: number }, msLeft: number): boolean {
  if (msLeft <= 0) return false;
  return row.host !== hostname() || alive(row.pid);
}

/** What a send-running message says holds it. */
export function heldBy(l: LiveLease): string {
  return l.pid ? `process ${l.pid} on ${l.host} (holder ${l.holder})` : `worker ${l.holder}`;
}

export const claim = (edition: string, worker: string, msLeft: number): LiveLease => ({
  name: `send:${edition} worker claim`,
  holder: worker,
  pid: 0,
  host: '',
  msLeft,
});
