import { entry } from './entry.ts';

// Catalog entries for broadsheet inbound, the IMAP poller, DSN/ARF parsing, VERP (issue 15). Same rules as catalog.ts.
export const inboundCatalog = {
  // parsing
  VERP_RETURN_PATH_INVALID: entry<{ address: string; max: number }>({
    title: 'Return path unusable for VERP',
    message: (p) =>
      `delivery.returnPath "${p.address}" is not a plain address whose local part leaves room for a VERP token (at most ${p.max} characters before the @)`,
    hint: 'Use a short address such as bounces@<your domain>, or set delivery.returnPath: false to send without VERP (bounces are then not attributed).',
    exit: 2,
  }),
  INBOUND_STORE_FAILED: entry<{ detail: string }>({
    title: 'Inbound message not stored',
    message: (p) => `cannot store the inbound message: ${p.detail}`,
    hint: 'The store is unwritable or full; the sending server keeps the message and retries (the listener answers 4xx). Check disk space and the store path.',
    exit: 1,
  }),

  // servers
  INBOUND_PORT_IN_USE: entry<{ host: string; port: number }>({
    title: 'Inbound port in use',
    message: (p) => `cannot listen on ${p.host}:${p.port}: another program is using that port`,
    hint: 'Stop the other listener or pass --port N (inbound.port in the config).',
    exit: 1,
  }),
  INBOUND_LISTEN: entry<{ host: string; port: number; detail: string }>({
    title: 'Inbound listener failed',
    message: (p) => `cannot listen on ${p.host}:${p.port}: ${p.detail}`,
    hint: 'Ports under 1024 need privileges; the host must be an address of this machine (inbound.host, --host).',
    exit: 1,
  }),
  INBOUND_TLS_FILES: entry<{ file: string; detail: string }>({
    title: 'Inbound TLS files unreadable',
    message: (p) => `cannot read the STARTTLS certificate or key ${p.file}: ${p.detail}`,
    hint: 'Set inbound.tls {certFile, keyFile} (or INBOUND_TLS_CERT_FILE / INBOUND_TLS_KEY_FILE) to readable PEM files, or unset both to run without STARTTLS.',
    exit: 2,
  }),
  INBOUND_IMAP_URL: entry<{ detail: string }>({
    title: 'IMAP_URL missing or malformed',
    message: (p) => `cannot poll a mailbox: ${p.detail}`,
    hint: 'Set IMAP_URL=imaps://user:password@host:993/INBOX in the environment (imap:// for plain text on a trusted network; the path is the mailbox, INBOX when omitted).',
    exit: 2,
  }),
  INBOUND_IMAP_REFUSED: entry<{ host: string; port: number; detail: string }>({
    title: 'IMAP server unreachable',
    message: (p) => `cannot connect to ${p.host}:${p.port}: ${p.detail}`,
    hint: 'Check the host and port in IMAP_URL and that the server is running; the daemon retries at the next poll.',
    exit: 1,
  }),
  INBOUND_IMAP_AUTH: entry<{ host: string; user: string }>({
    title: 'IMAP login refused',
    message: (p) => `${p.host} refused the login of ${p.user}`,
    hint: 'Check the user and password in IMAP_URL (percent-encode @ : / in them).',
    exit: 1,
  }),
  INBOUND_IMAP_TLS: entry<{ host: string; detail: string }>({
    title: 'IMAP TLS rejected',
    message: (p) => `TLS with ${p.host} failed: ${p.detail}`,
    hint: 'The server certificate must be valid for the host; for a private CA set inbound.imap.caFile. Use imap:// only for a server without TLS on a trusted network.',
    exit: 1,
  }),
  INBOUND_IMAP_TIMEOUT: entry<{ host: string; port: number; stage: string; ms: number }>({
    title: 'IMAP server timed out',
    message: (p) => `${p.host}:${p.port} did not answer within ${p.ms} ms (${p.stage})`,
    hint: 'The server accepted the connection but stalled; check it is an IMAP server (993 for imaps://, 143 for imap://). Limits: inbound.imap.*TimeoutMs.',
    exit: 1,
  }),
  INBOUND_IMAP_DROPPED: entry<{ host: string; detail: string }>({
    title: 'IMAP connection lost',
    message: (p) => `the connection to ${p.host} closed unexpectedly: ${p.detail}`,
    hint: 'Messages not yet processed stay unseen and are taken at the next poll; nothing is counted twice.',
    exit: 1,
  }),
  INBOUND_IMAP_MAILBOX: entry<{ mailbox: string; detail: string }>({
    title: 'IMAP mailbox unusable',
    message: (p) => `cannot open or write mailbox "${p.mailbox}": ${p.detail}`,
    hint: 'The mailbox is the path of IMAP_URL (INBOX by default); inbound.imap.processedMailbox must be a name the server accepts.',
    exit: 1,
  }),
  INBOUND_IMAP_FAILED: entry<{ host: string; detail: string }>({
    title: 'IMAP poll failed',
    message: (p) => `polling ${p.host} failed: ${p.detail}`,
    hint: "Run with DEBUG=1 for the server's replies; the daemon retries at the next poll.",
    exit: 1,
  }),
} as const;
