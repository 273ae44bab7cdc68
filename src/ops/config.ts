import { z } from 'zod';

// The `ops:` section of broadsheet.config.yaml (issue 17; src/ops/): heartbeats
// and health endpoints of daemons and workers on several hosts.
export const opsConfigSchema = z.strictObject({}).prefault({});

export type OpsConfig = z.infer<typeof opsConfigSchema>;
