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
    /** Parallel SMTP connections (with PIPELINING each carries two messages: one awaiting its "." reply, the next behind it). */
    connections: z.number().int().min(1).max(50).default(5),
    /** Ceiling over all connections; 0 = as fast as the server takes them. */
    messagesPerSecond: z.number().min(0).default(0),
    /** Attempts after the first for a transient failure (4xx, dropped connection, timeout) in one run. */
    retries: z.number().int().min(0).max(20).default(3),
    /** Exponential backoff with full jitter: a random wait in [0, min(maxBackoffMs, backoffMs·2^n)]. */
    backoffMs: z.number().int().min(0).default(1000),
    maxBackoffMs: z.number().int().min(0).default(30_000),
    // SMTP time limits (see smtpTimeouts below for the defaults). Each phase has an
    // overall deadline, not only an idle timer: a server dripping one byte a second
    // would reset an idle timer forever.
    /** DNS lookup + TCP connect (default 30 s). */
    connectionTimeoutMs: z.number().int().min(100).optional(),
    /** From the TCP connection to a ready session: greeting, EHLO, STARTTLS, AUTH (default 30 s). */
    greetingTimeoutMs: z.number().int().min(100).optional(),
    /** Silence on an open connection, and the whole of one message from MAIL FROM to the end of its body (default 60 s). */
    socketTimeoutMs: z.number().int().min(100).optional(),
    /** The reply to the end-of-data "." (default 10 min, RFC 5321 § 4.5.3.2.6). */
    dataTimeoutMs: z.number().int().min(100).optional(),
    /** Safety net around any transport's send of one message (default: the sum of the four above). */
    messageTimeoutMs: z.number().int().min(100).optional(),
    /** Before 0.2: one SMTP timeout for everything. Still honoured as the default of the four above. */
    timeoutMs: z.number().int().min(100).optional(),
    /** Messages per SMTP connection before it is recycled. */
    maxMessagesPerConnection: z.number().int().min(1).default(1000),
    /** Domain for Message-IDs and List-Id; default: the domain of email.from (itself derived from publicUrl, src/config/identity.ts). */
    domain: hostname.optional(),
    /** List-Id value (RFC 2919) without brackets; default `<edition name>.<domain>`. */
    listId: hostname.optional(),
    /** mailto for List-Unsubscribe; default `unsubscribe@<domain>`. */
    unsubscribeMailto: z.email().optional(),
    /**
     * Envelope sender (bounce address) base for VERP: each digest goes out with
     * MAIL FROM `<local>+<token>@<domain>` naming its reader (src/delivery/verp.ts).
     * Default `bounces@<domain>`; false = no VERP, MAIL FROM is email.from's address.
     */
    returnPath: z.union([z.email(), z.literal(false)]).optional(),
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

export interface SmtpTimeouts {
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
  dataTimeoutMs: number;
}

/** The SMTP time limits with their defaults; the old single `timeoutMs` stands in for any not set. */
export function smtpTimeouts(d: Partial<SmtpTimeouts> & { timeoutMs?: number }): SmtpTimeouts {
  return {
    connectionTimeoutMs: d.connectionTimeoutMs ?? d.timeoutMs ?? 30_000,
    greetingTimeoutMs: d.greetingTimeoutMs ?? d.timeoutMs ?? 30_000,
    socketTimeoutMs: d.socketTimeoutMs ?? d.timeoutMs ?? 60_000,
    dataTimeoutMs: d.dataTimeoutMs ?? d.timeoutMs ?? 600_000,
  };
}

/** The per-message deadline send.ts puts around any transport: a transport that never settles still ends. */
export function messageTimeoutMs(
  d: Partial<SmtpTimeouts> & { timeoutMs?: number; messageTimeoutMs?: number },
): number {
  if (d.messageTimeoutMs) return d.messageTimeoutMs;
  const t = smtpTimeouts(d);
  // A margin over the transport's own limits, so the transport's named error wins when it has one.
  return t.connectionTimeoutMs + t.greetingTimeoutMs + t.socketTimeoutMs + t.dataTimeoutMs + 1000;
}
