import { entry } from './entry.ts';

// Catalog entries for the PostgreSQL store (issue 17; src/store/pg/). Same rules
// as catalog.ts. `store` is always the URL with its password removed.
export const storePgCatalog = {
  STORE_PG_UNREACHABLE: entry<{ store: string; detail: string }>({
    title: 'PostgreSQL unreachable',
    message: (p) =>
      `no connection to the PostgreSQL store ${p.store} (refused, lost or cut by the server): ${p.detail}`,
    hint: 'Check that the server runs and listens on that host and port (pg_isready -h HOST -p PORT), and that no firewall is in the way; DATABASE_URL or store.url names the server. A connection cut mid-send (a restart, pg_terminate_backend) is reopened by workers on their own.',
    exit: 1,
  }),
  STORE_PG_TIMEOUT: entry<{ store: string; ms: number }>({
    title: 'PostgreSQL did not answer',
    message: (p) => `the PostgreSQL store ${p.store} did not complete a connection within ${p.ms} ms`,
    hint: 'The server (or a proxy in front of it) accepted the connection but never answered: check its load and max_connections; store.connectTimeoutMs sets the wait.',
    exit: 1,
  }),
  STORE_PG_AUTH: entry<{ store: string; detail: string }>({
    title: 'PostgreSQL refused the login',
    message: (p) => `the PostgreSQL store ${p.store} refused the login: ${p.detail}`,
    hint: 'Check the user and password (in DATABASE_URL or PGPASSWORD, never in a committed file) and pg_hba.conf for this client address.',
    exit: 2,
  }),
  STORE_PG_TLS: entry<{ store: string; detail: string }>({
    title: 'PostgreSQL TLS failed',
    message: (p) => `TLS to the PostgreSQL store ${p.store} failed: ${p.detail}`,
    hint: 'Managed PostgreSQL usually needs ?sslmode=require (or verify-full with the provider CA in PGSSLROOTCERT); a local server without TLS needs sslmode=disable or no sslmode.',
    exit: 2,
  }),
  STORE_PG_NO_DATABASE: entry<{ store: string; database: string }>({
    title: 'No such PostgreSQL database',
    message: (p) => `the PostgreSQL server has no database "${p.database}" (${p.store})`,
    hint: (p) =>
      `Create it first (createdb ${p.database}, or CREATE DATABASE in psql), then run \`broadsheet migrate\`.`,
    exit: 2,
  }),
  STORE_PG_FAILED: entry<{ store: string; detail: string }>({
    title: 'PostgreSQL statement failed',
    message: (p) => `the PostgreSQL store ${p.store} refused a statement: ${p.detail}`,
    hint: 'Nothing of the failed transaction was kept. If the connection dropped, run the command again; if the message names a missing table, run `broadsheet migrate`.',
    exit: 1,
  }),
  STORE_PG_UNSUPPORTED: entry<{ store: string; command: string }>({
    title: 'Not yet on PostgreSQL',
    message: (p) => `\`${p.command}\` works on the SQLite store only for now, and the store is ${p.store}`,
    hint: 'Run it with --store pointing at an SQLite file, or see README § Several hosts for the commands that run on PostgreSQL.',
    exit: 2,
  }),
  STORE_URL_INVALID: entry<{ value: string; detail: string }>({
    title: 'Bad store address',
    message: (p) => `"${p.value}" is not a store address: ${p.detail}`,
    hint: 'Give a file path (or sqlite:PATH) for the SQLite store, or postgres://user@host:5432/database for PostgreSQL.',
    exit: 2,
  }),
  SECRET_REQUIRED: entry<Record<string, never>>({
    title: 'BROADSHEET_SECRET is not set',
    message: () =>
      'a PostgreSQL store is shared by several hosts, and they must all sign and check unsubscribe, preference and click tokens with the same key, but BROADSHEET_SECRET is not set',
    hint: 'Set BROADSHEET_SECRET to the same long random value on every host (e.g. `openssl rand -base64 32`, in the environment or .env, never in a committed file). Copying the secret.key file of an SQLite setup keeps its old links working.',
    exit: 2,
  }),
} as const;
