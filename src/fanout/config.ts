import { z } from 'zod';

// The `worker:` section of broadsheet.config.yaml (issue 17; src/fanout/): how an
// edition's send is split into batches on the shared queue (pg-boss, in the
// PostgreSQL store) and how `broadsheet worker` processes take them.
export const workerConfigSchema = z.strictObject({}).prefault({});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;
