import { entry } from './entry.ts';

// Catalog entries for the send fan-out and `broadsheet worker` (src/fanout/) — issue 17. Same rules as catalog.ts.
export const fanoutCatalog = {
  WORKER_NEEDS_POSTGRES: entry<{ store: string }>({
    title: 'broadsheet worker needs the PostgreSQL store',
    message: (p) =>
      `the store is ${p.store}, a SQLite file: workers take send batches from a queue in a shared PostgreSQL store`,
    hint: 'Point every host at one PostgreSQL (DATABASE_URL=postgres://… or store.url); with the SQLite store, `broadsheet send` sends on its own.',
    exit: 2,
  }),
  FANOUT_PAYLOAD_MISSING: entry<{ edition: string }>({
    title: 'No send payload for this edition',
    message: (p) =>
      `a batch of edition "${p.edition}" is queued but the store holds no payload (the rendered digest) for it`,
    hint: 'Run `broadsheet send --edition <id>` again on a host with the built edition: it writes the payload, then the queued batches go out.',
    exit: 1,
  }),
  FANOUT_QUEUE_FAILED: entry<{ store: string; detail: string }>({
    title: 'The send queue (pg-boss) failed',
    message: (p) => `the send queue in ${p.store} failed: ${p.detail}`,
    hint: 'Check that the PostgreSQL user may create the schema "pgboss" (first start) and that the server is reachable; then run the command again — queued batches are kept.',
    exit: 1,
  }),
  WORKER_OPTION_INVALID: entry<{ option: string; value: string; expected: string }>({
    title: 'Bad worker option',
    message: (p) => `${p.option} takes ${p.expected}, got "${p.value}"`,
    hint: 'See `broadsheet worker --help`; the worker: section of the config sets the defaults.',
    exit: 2,
  }),
} as const;
