import { entry } from './entry.ts';

// Catalog entries for heartbeats, health endpoints and host status (src/ops/) — issue 17. Same rules as catalog.ts.
export const opsCatalog = {
  OPS_HEALTH_LISTEN: entry<{ host: string; port: number; detail: string }>({
    title: 'Health endpoint cannot listen',
    message: (p) => `the health endpoint cannot listen on ${p.host}:${p.port} (${p.detail})`,
    hint: (p) =>
      p.detail === 'EADDRINUSE'
        ? 'Another process (a second daemon or worker on this host?) holds that port: give each process its own --health-port (ops.healthPort for the daemon, worker.healthPort for a worker).'
        : 'Pick a port above 1023 and an address of this host (ops.healthHost: 127.0.0.1 or 0.0.0.0).',
    exit: 2,
  }),
  OPS_HEALTH_PORT_INVALID: entry<{ value: string }>({
    title: 'Bad --health-port',
    message: (p) => `--health-port takes a port number from 0 to 65535, got "${p.value}"`,
    hint: 'Example: broadsheet schedule --health-port 9464 (0 picks any free port and logs it).',
    exit: 2,
  }),
} as const;
