import { BroadsheetError } from '../errors/index.ts';

/** A table of the live schema: its columns in order and the tables its foreign keys name. */
export interface TableInfo {
  name: string;
  columns: string[];
  refs: string[];
}

/**
 * Tables `store copy` never reads or writes, and why: they describe processes
 * running against the SOURCE store, not the newsroom's data. Every other table
 * of the live schema is copied, so a table a later migration adds is copied
 * without editing this file; tests/integration/store-copy.test.ts fails when a
 * schema table has no row in the fixture, so a new table is seen to be copied.
 */
export const SKIPPED_TABLES: Readonly<Record<string, string>> = {
  leases:
    'cross-process locks of processes running on the source; copied, they would make the target refuse sends and jobs no process is running',
  scheduler_heartbeats:
    'liveness of the daemons running on the source; a daemon started on the target writes its own row',
  process_heartbeats:
    'liveness of daemons, workers and serve replicas on the source; each process started on the target writes its own row',
  rate_buckets:
    "rate-limiter state (theoretical arrival times) in the source database's clock; on the target a bucket starts full",
};

/** An SQL identifier, quoted (the same rule in SQLite and PostgreSQL). */
export const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface CopyPlan {
  /** Tables to copy, parents before children (foreign-key order). */
  copy: TableInfo[];
  skipped: { table: string; reason: string }[];
}

/**
 * Which tables to copy and in what order, from the source's live schema,
 * checked against the target's: both must have the same tables and, for each
 * copied table, the same columns (same schema version, so they do unless a
 * table was made by hand).
 */
export function planCopy(
  source: TableInfo[],
  target: TableInfo[],
  names: { from: string; to: string },
): CopyPlan {
  const byName = new Map(target.map((t) => [t.name, t]));
  const differs = (table: string, detail: string) =>
    new BroadsheetError('STORE_COPY_SCHEMA_DIFFERS', { table, detail, ...names });
  for (const t of target)
    if (!source.some((s) => s.name === t.name)) throw differs(t.name, 'only the target has it');
  const copy: TableInfo[] = [];
  const skipped: CopyPlan['skipped'] = [];
  for (const s of source) {
    const t = byName.get(s.name);
    if (!t) throw differs(s.name, 'only the source has it');
    const reason = SKIPPED_TABLES[s.name];
    if (reason) {
      skipped.push({ table: s.name, reason });
      continue;
    }
    const missing = s.columns.filter((c) => !t.columns.includes(c));
    const extra = t.columns.filter((c) => !s.columns.includes(c));
    if (missing.length || extra.length)
      throw differs(
        s.name,
        [
          missing.length ? `columns only in the source: ${missing.join(', ')}` : '',
          extra.length ? `columns only in the target: ${extra.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
      );
    copy.push(s);
  }
  return { copy: fkOrder(copy), skipped: skipped.sort((a, b) => a.table.localeCompare(b.table)) };
}

/**
 * Parents before children (Kahn's algorithm, ties by name so both engines give
 * one order). A reference to a table outside the list, or to itself, does not
 * constrain; a cycle (none in the schema) keeps its tables in name order.
 */
export function fkOrder(tables: TableInfo[]): TableInfo[] {
  const names = new Set(tables.map((t) => t.name));
  const pending = new Map(
    tables.map((t) => [t.name, new Set(t.refs.filter((r) => r !== t.name && names.has(r)))]),
  );
  const byName = new Map(tables.map((t) => [t.name, t]));
  const out: TableInfo[] = [];
  while (pending.size) {
    const ready = [...pending].filter(([, deps]) => deps.size === 0).map(([n]) => n);
    const next = (ready.length ? ready : [...pending.keys()]).sort()[0]!;
    out.push(byName.get(next)!);
    pending.delete(next);
    for (const deps of pending.values()) deps.delete(next);
  }
  return out;
}
