import { z } from 'zod';

// The `ops:` section of broadsheet.config.yaml (issue 17; src/ops/): heartbeats
// and health endpoints of daemons and workers on several hosts.
export const opsConfigSchema = z
  .strictObject({
    /** How often each daemon, worker and serve process writes its heartbeat row (ms). */
    heartbeatMs: z.number().int().min(500).max(600_000).default(10_000),
    /** A process whose heartbeat is older than this many intervals is shown stale by `status` and fails its /healthz. */
    staleBeats: z.number().int().min(2).max(100).default(3),
    /** Port of the `schedule` daemon's GET /healthz (0: any free port; leave out for none). `--health-port` wins. */
    healthPort: z.number().int().min(0).max(65_535).optional(),
    /** Address the daemon's health endpoint listens on: 127.0.0.1 for a local probe, 0.0.0.0 for a remote monitor. (A worker's is worker.healthPort on 127.0.0.1; serve answers /healthz on its own port.) */
    healthHost: z.string().min(1).default('127.0.0.1'),
    /** A health check's store query answers within this, or the endpoint answers 503 (ms). */
    healthTimeoutMs: z.number().int().min(100).max(60_000).default(2_000),
  })
  .prefault({});

export type OpsConfig = z.infer<typeof opsConfigSchema>;
