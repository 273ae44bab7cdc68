import { z } from 'zod';

// The `store:` section of broadsheet.config.yaml (issue 17). Without a URL the
// SQLite file at paths.store is the store (the embedded default). DATABASE_URL
// in the environment wins over store.url; an explicit --store wins over both.
// Keep the password out of committed files: a URL without one plus PGPASSWORD
// (or ~/.pgpass, or .env's DATABASE_URL) is what pg reads.

export const storeConfigSchema = z
  .strictObject({
    /** postgres://user@host:5432/db (or postgresql://…) selects the PostgreSQL store. */
    url: z
      .string()
      .regex(/^(postgres|postgresql):\/\//, 'a postgres:// URL (or leave it out for the SQLite file)')
      .optional(),
    /** Connections this process opens at most (pg.Pool max). */
    poolMax: z.number().int().min(1).max(200).default(10),
    /** Waiting for a connection (TCP, TLS and authentication) longer than this fails with STORE_PG_TIMEOUT. */
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(5_000),
    /** A statement running longer than this is cancelled by the server (statement_timeout). */
    statementTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  })
  .prefault({});

export type StoreConfig = z.infer<typeof storeConfigSchema>;
