import { isIP } from 'node:net';
import { z } from 'zod';

// `inbound:` — broadsheet inbound (SMTP/LMTP listener, IMAP poller) and the bounce policy (issue 15).
// Secrets never live here: the IMAP login comes from env IMAP_URL, TLS key
// files may come from env INBOUND_TLS_CERT_FILE / INBOUND_TLS_KEY_FILE.

/** "127.0.0.1/32", "10.0.0.0/8", "::1/128", or a bare address (a single host). */
const cidr = z.string().refine(
  (s) => {
    const [addr, bits, extra] = s.trim().split('/');
    const v = isIP(addr ?? '');
    if (!v || extra !== undefined) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return /^\d+$/.test(bits) && n <= (v === 4 ? 32 : 128);
  },
  { message: 'an address or CIDR block like 127.0.0.1/32 or 10.0.0.0/8' },
);

const imapSchema = z
  .strictObject({
    /** Seconds between polls of the mailbox. */
    pollSeconds: z.number().int().min(1).default(60),
    /** Move processed messages here (created when missing); unset: flag them \Seen and leave them. */
    processedMailbox: z.string().min(1).optional(),
    /** PEM file of a CA to trust besides the system's (a private or test server). */
    caFile: z.string().min(1).optional(),
    /** TCP connect (default 15 s). */
    connectionTimeoutMs: z.number().int().min(100).default(15_000),
    /** From the connection to the server's greeting (default 15 s). */
    greetingTimeoutMs: z.number().int().min(100).default(15_000),
    /** Silence on an open connection, e.g. mid-fetch (default 60 s). */
    socketTimeoutMs: z.number().int().min(100).default(60_000),
  })
  .prefault({});

export const inboundConfigSchema = z
  .strictObject({
    /** Address the listener binds (loopback unless told: Postfix on the same host hands mail over). */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(2525),
    /** Speak LMTP (for Postfix's `lmtp:` transport) instead of SMTP: one reply per recipient. */
    lmtp: z.boolean().default(false),
    /** Largest message accepted, advertised with SIZE; larger → 552 5.3.4. */
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .default(2 * 1024 * 1024),
    /** Client addresses allowed to connect; others get 554 at connect. */
    allowFrom: z.array(cidr).min(1).default(['127.0.0.1/32', '::1/128']),
    /**
     * Accepted RCPT TO addresses; each also accepts its sub-addresses (local+tag@domain,
     * which is how VERP addresses look). Default: the return path (delivery.returnPath,
     * else bounces@<delivery domain>) and the List-Unsubscribe mailto address. Others → 550 5.1.1.
     */
    recipients: z.array(z.email()).min(1).optional(),
    /** Days the raw source of an inbound message is kept (the event rows stay for counts). */
    keepRawDays: z.number().int().min(0).default(30),
    /** Soft bounces within softBounceWindowDays that mark a reader bounced. */
    softBounceLimit: z.number().int().min(1).default(3),
    softBounceWindowDays: z.number().int().min(1).default(30),
    /** Simultaneous connections; more are refused (421). */
    maxClients: z.number().int().min(1).default(20),
    /** Silence on a connection after which it is dropped (a stalled client cannot hold a slot). */
    socketTimeoutMs: z.number().int().min(100).default(60_000),
    /** On SIGTERM: how long open connections may finish before they get 421 and are closed. */
    closeTimeoutMs: z.number().int().min(0).default(10_000),
    /** STARTTLS with these PEM files (env INBOUND_TLS_CERT_FILE / INBOUND_TLS_KEY_FILE win); unset: no STARTTLS. */
    tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    imap: imapSchema,
  })
  .prefault({});

export type InboundConfig = z.infer<typeof inboundConfigSchema>;
export type ImapConfig = InboundConfig['imap'];
