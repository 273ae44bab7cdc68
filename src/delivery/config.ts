import { z } from 'zod';

// The `delivery:` section of broadsheet.config.yaml (owned by the delivery stage).
// SMTP credentials never live here: SMTP_URL comes from env only.

const hostname = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i, {
  message: 'a domain like news.example.com',
});

export const deliveryConfigSchema = z
  .strictObject({
    /** Default transport: smtp when SMTP_URL is set, outbox otherwise. `--transport` wins. */
    transport: z.enum(['outbox', 'smtp', 'json']).optional(),
    /** Parallel SMTP connections (each sends one message at a time). */
    connections: z.number().int().min(1).max(50).default(5),
    /** Ceiling over all connections; 0 = as fast as the server takes them. */
    messagesPerSecond: z.number().min(0).default(0),
    /** Attempts after the first for a transient failure (4xx, dropped connection, timeout) in one run. */
    retries: z.number().int().min(0).max(20).default(3),
    /** Exponential backoff with full jitter: a random wait in [0, min(maxBackoffMs, backoffMs·2^n)]. */
    backoffMs: z.number().int().min(0).default(1000),
    maxBackoffMs: z.number().int().min(0).default(30_000),
    /** SMTP socket timeout in ms (connect, greeting, and each command). */
    timeoutMs: z.number().int().min(100).default(30_000),
    /** Messages per SMTP connection before it is recycled. */
    maxMessagesPerConnection: z.number().int().min(1).default(1000),
    /** Domain for Message-IDs and List-Id; default: the domain of email.from. */
    domain: hostname.optional(),
    /** List-Id value (RFC 2919) without brackets; default `<edition name>.<domain>`. */
    listId: hostname.optional(),
    /** mailto for List-Unsubscribe; default `unsubscribe@<domain>`. */
    unsubscribeMailto: z.email().optional(),
    /** DKIM signing (the key comes from env DKIM_PRIVATE_KEY_FILE). */
    dkim: z
      .strictObject({ domain: hostname, selector: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i) })
      .optional(),
    /** fsync the store on every ledger commit: survives power loss, costs ~4 ms a commit (see store/db.ts). */
    fsyncEachCommit: z.boolean().default(false),
    /** How long a send lease lives without renewal (a crashed sender's lease expires after this). */
    leaseSeconds: z.number().int().min(5).default(60),
  })
  .prefault({});

export type DeliveryConfig = z.infer<typeof deliveryConfigSchema>;
