import { entry } from './entry.ts';

// Catalog entries for `broadsheet store copy` (src/store/copy.ts) — issue 17. Same rules as catalog.ts.
// `from` / `to` / `store` are store addresses as displayStore() shows them (no password).
export const storeCopyCatalog = {
  STORE_COPY_SAME: entry<{ store: string }>({
    title: 'Copy onto itself',
    message: (p) => `--from and --to name the same store (${p.store})`,
    hint: 'Give --to a different store: a new SQLite file, or another PostgreSQL database (createdb NAME).',
    exit: 2,
  }),
  STORE_COPY_VERSION_MISMATCH: entry<{ from: string; fromVersion: number; to: string; toVersion: number }>({
    title: 'Stores at different schema versions',
    message: (p) =>
      `the source ${p.from} is at schema version ${p.fromVersion} and the target ${p.to} at ${p.toVersion}; a copy needs both at the same version`,
    hint: (p) =>
      p.fromVersion < p.toVersion
        ? `Bring the source up to date first with this Broadsheet: \`broadsheet migrate --store ${p.from}\` (stop the processes that use it if they run an older Broadsheet), then copy again.`
        : 'The source is newer than this Broadsheet: run the copy with the Broadsheet version that wrote the source.',
    exit: 2,
  }),
  STORE_COPY_TARGET_NOT_EMPTY: entry<{ to: string; tables: string }>({
    title: 'Target store is not empty',
    message: (p) => `the target ${p.to} already holds data (${p.tables}); nothing was copied`,
    hint: 'Copy into an empty store, or add --replace to empty the target in the same transaction as the copy (its current data is lost).',
    exit: 2,
  }),
  STORE_COPY_SEND_RUNNING: entry<{ store: string; lease: string; by: string; seconds: number }>({
    title: 'A send is running',
    message: (p) =>
      `${p.store} has a live ${p.lease}, held by ${p.by} for ${p.seconds} s more: a send is under way`,
    hint: 'Wait until the send ends (or stop it), then copy; --force copies anyway, and ledger rows written after the snapshot are then not in the copy.',
    exit: 1,
  }),
  STORE_COPY_SCHEMA_DIFFERS: entry<{ table: string; from: string; to: string; detail: string }>({
    title: 'Stores have different tables',
    message: (p) => `table ${p.table}: ${p.detail} (source ${p.from}, target ${p.to})`,
    hint: 'Both stores must have the schema of this Broadsheet: run `broadsheet migrate` on each; a table created by hand in one of them must be dropped or created in the other too.',
    exit: 2,
  }),
  STORE_COPY_COUNT_MISMATCH: entry<{ table: string; source: number; copied: number; target: number }>({
    title: 'Row counts differ after the copy',
    message: (p) =>
      `table ${p.table}: the source snapshot has ${p.source} rows, ${p.copied} were read and the target holds ${p.target}; the copy was rolled back`,
    hint: 'Nothing was written to the target. Another process may be writing to the target store: stop it and copy again.',
    exit: 1,
  }),
  STORE_COPY_ROW_REJECTED: entry<{ table: string; to: string; detail: string }>({
    title: 'Target refused a row',
    message: (p) => `the target ${p.to} refused a row of table ${p.table}: ${p.detail}`,
    hint: 'Nothing was written to the target (the copy is one transaction). A foreign-key or type error points at a damaged row in the source: fix or delete it there, then copy again.',
    exit: 1,
  }),
} as const;
