import { z } from 'zod';

// The `worker:` section of broadsheet.config.yaml (issue 17; src/fanout/): how an
// edition's send is split into batches on the shared queue (pg-boss, in the
// PostgreSQL store) and how `broadsheet worker` processes take them.
export const workerConfigSchema = z
  .strictObject({
    /** Subscriber ids per batch: batch k holds the ledger rows with k·batchSize ≤ id < (k+1)·batchSize. */
    batchSize: z.number().int().min(1).max(100_000).default(500),
    /** Batches one worker process sends at once. */
    concurrency: z.number().int().min(1).max(50).default(2),
    /** SMTP connections one worker process opens at most (split evenly over its concurrent batches). */
    connections: z.number().int().min(1).max(200).default(4),
    /**
     * Messages per second over ALL workers on all hosts, per transport (a GCRA row in
     * the database, paced by the database's clock); 0 = no global limit.
     */
    rateLimit: z.number().min(0).max(100_000).default(0),
    /**
     * A claimed batch is renewed every third of this; a worker that stops renewing
     * (killed, host gone) loses its rows and its batch after it (pg-boss expiry + claims).
     */
    leaseSeconds: z.number().int().min(2).max(3600).default(60),
    /** How often an idle worker asks the queue for a batch. */
    pollSeconds: z.number().min(0.5).max(60).default(2),
    /** Port of the worker's health endpoint on 127.0.0.1 (0 = none). */
    healthPort: z.number().int().min(0).max(65_535).default(0),
  })
  .prefault({});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;
