import { readFileSync } from 'node:fs';
import { type AddressInfo, BlockList, isIPv4 } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/schema.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { InboundMeta } from './classify.ts';
import type { InboundDeps, InboundOutcome } from './process.ts';

// `broadsheet inbound`'s listener: an SMTP (or, behind Postfix's `lmtp:`
// transport, LMTP) endpoint for bounces, complaints and mailto unsubscribes.
// A message is answered 250 only once processInbound has stored its raw source;
// any failure before that answers 451 4.3.0, so the sending MTA keeps it and
// retries — nothing is lost. No AUTH: who may talk to it is decided by the
// client's address (allowFrom) and what it may deliver by RCPT TO (recipients).

// The types are process.ts's own (type-only: nothing of it is loaded here).
export type { InboundDeps, InboundMeta, InboundOutcome };

/** src/inbound/process.ts's processInbound; passed in so the listener and poller don't fix its module. */
export type ProcessInbound = (deps: InboundDeps, raw: Buffer, meta: InboundMeta) => Promise<InboundOutcome>;

export interface InboundServerOptions {
  host?: string;
  port?: number;
  lmtp?: boolean;
  /** STARTTLS files; env INBOUND_TLS_CERT_FILE / INBOUND_TLS_KEY_FILE, then inbound.tls, when not given. */
  tls?: { certFile: string; keyFile: string };
}

export interface RunningInbound {
  host: string;
  port: number;
  lmtp: boolean;
  /** smtp://host:port or lmtp://host:port, for people and logs. */
  url: string;
  /** Messages answered 250 so far. */
  accepted(): number;
  /** Stop accepting, let open sessions finish (up to inbound.closeTimeoutMs), wait for messages being stored. */
  close(): Promise<void>;
}

/** What RCPT TO accepts: inbound.recipients, else the return path and the List-Unsubscribe mailto address. */
export function acceptedRecipients(config: Config): string[] {
  if (config.inbound.recipients) return config.inbound.recipients.map((a) => a.toLowerCase());
  const d = config.delivery as Config['delivery'] & { returnPath?: string | false };
  const domain = d.domain;
  const out: string[] = [];
  // delivery.returnPath (VERP base, src/delivery/verp.ts): false = no VERP; the plain bounces@ still receives test-send bounces.
  out.push(typeof d.returnPath === 'string' ? d.returnPath : `bounces@${domain}`);
  out.push(d.unsubscribeMailto ?? `unsubscribe@${domain}`);
  return [...new Set(out.map((a) => a.toLowerCase()))];
}

/** A predicate for RCPT TO: an accepted address or one of its sub-addresses (local+tag@domain, VERP). */
export function recipientMatcher(accepted: readonly string[]): (address: string) => boolean {
  const set = new Set(accepted.map((a) => a.toLowerCase()));
  return (address) => {
    const a = address.trim().toLowerCase();
    if (set.has(a)) return true;
    const at = a.lastIndexOf('@');
    if (at <= 0) return false;
    const local = a.slice(0, at);
    const plus = local.indexOf('+');
    return plus > 0 && set.has(`${local.slice(0, plus)}${a.slice(at)}`);
  };
}

/** A predicate for client addresses from CIDR blocks ("127.0.0.1/32", "::1/128", a bare address). */
export function addressMatcher(cidrs: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.trim().split('/') as [string, string | undefined];
    const type = isIPv4(addr) ? 'ipv4' : 'ipv6';
    list.addSubnet(addr, bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits), type);
  }
  return (ip) => {
    // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    const a = v4 ?? ip;
    try {
      return list.check(a, isIPv4(a) ? 'ipv4' : 'ipv6');
    } catch {
      return false;
    }
  };
}

const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

function readTls(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new BroadsheetError(
        'INBOUND_TLS_FILES',
        { file, detail: (err as NodeJS.ErrnoException).code ?? String(err) },
        { cause: err },
      );
    }
  };
  return { cert: read(files.certFile), key: read(files.keyFile) };
}

function tlsFiles(deps: InboundDeps, opts: InboundServerOptions) {
  if (opts.tls) return opts.tls;
  const certFile = process.env.INBOUND_TLS_CERT_FILE?.trim();
  const keyFile = process.env.INBOUND_TLS_KEY_FILE?.trim();
  if (certFile || keyFile) {
    if (!certFile || !keyFile)
      throw new BroadsheetError('INBOUND_TLS_FILES', {
        file: certFile ? 'INBOUND_TLS_KEY_FILE' : 'INBOUND_TLS_CERT_FILE',
        detail: 'set both INBOUND_TLS_CERT_FILE and INBOUND_TLS_KEY_FILE, or neither',
      });
    return { certFile, keyFile };
  }
  return deps.config.inbound.tls;
}

/** Start the listener; resolves once it is bound (port 0 = any free port). */
export async function startInboundServer(
  deps: InboundDeps,
  processInbound: ProcessInbound,
  opts: InboundServerOptions = {},
): Promise<RunningInbound> {
  const cfg = deps.config.inbound;
  const host = opts.host ?? cfg.host;
  const lmtp = opts.lmtp ?? cfg.lmtp;
  const files = tlsFiles(deps, opts);
  const tls = files ? readTls(files) : undefined;
  const allowed = addressMatcher(cfg.allowFrom);
  const accepted = acceptedRecipients(deps.config);
  const isRecipient = recipientMatcher(accepted);
  const log = deps.logger;
  const inFlight = new Set<Promise<unknown>>();
  let count = 0;

  const server = new SMTPServer({
    lmtp,
    banner: 'Broadsheet inbound',
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls && { secure: false, key: tls.key, cert: tls.cert }),
    authOptional: true,
    // RFC 3463 codes on every reply (552 5.3.4, 451 4.3.0, 550 5.1.1): MTAs log and act on them.
    hideENHANCEDSTATUSCODES: false,
    logger: false,
    size: cfg.maxBytes,
    // Past SIZE the server itself answers 552 5.3.4, whatever onData says.
    rejectOversized: true,
    maxClients: cfg.maxClients,
    socketTimeout: cfg.socketTimeoutMs,
    // smtp-server reads 0 as "use the default" (30 s): 0 here means "at once".
    closeTimeout: Math.max(1, cfg.closeTimeoutMs),
    onConnect(session, cb) {
      if (allowed(session.remoteAddress)) return cb();
      log.warn(
        { client: session.remoteAddress },
        `inbound: refused a connection from ${session.remoteAddress}`,
      );
      cb(smtpError(554, `Error: ${session.remoteAddress} may not connect here`));
    },
    onRcptTo(address, _session, cb) {
      if (isRecipient(address.address)) return cb();
      log.info({ rcpt: address.address }, `inbound: refused recipient ${address.address}`);
      cb(smtpError(550, `Error: no such mailbox here: ${address.address}`));
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        // Keep nothing past the limit: the server answers 552 at the end anyway.
        if (size <= cfg.maxBytes) chunks.push(c);
      });
      stream.once('error', (err) => cb(smtpError(451, `Error: message not received (${err.message})`)));
      stream.once('end', () => {
        if ((stream as { sizeExceeded?: boolean }).sizeExceeded || size > cfg.maxBytes)
          return cb(smtpError(552, 'Error: message exceeds fixed maximum message size'));
        const rcptTo = session.envelope.rcptTo.map((a) => a.address);
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined;
        const job = processInbound(deps, Buffer.concat(chunks), {
          source: 'inbound',
          ...(mailFrom !== undefined && { mailFrom }),
          rcptTo,
        }).then(
          (out) => {
            count++;
            log.info(
              {
                inboundId: out.inboundId,
                classified: out.classified,
                events: out.events,
                client: session.remoteAddress,
                mailFrom,
                rcptTo,
                bytes: size,
              },
              `inbound: message ${out.inboundId} stored (${out.classified}${out.events.length ? `: ${out.events.map((e) => `${e.kind} → ${e.action}`).join(', ')}` : ''})`,
            );
            cb(null, `OK: stored as ${out.inboundId}`);
          },
          (err: unknown) => {
            log.error(
              { err, client: session.remoteAddress, mailFrom, rcptTo },
              'inbound: could not store a message; answered 451 so the sender retries',
            );
            // LMTP: the same transient reply for every recipient (smtp-server repeats an error per recipient).
            cb(smtpError(451, 'Error: local error in processing, try again later'));
          },
        );
        inFlight.add(job);
        void job.finally(() => inFlight.delete(job));
      });
    },
  });
  // Errors on a client's connection (resets, TLS failures) are the client's problem, not the listener's.
  server.on('error', (err) => log.debug({ err }, 'inbound: connection error'));

  const port = await new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const p = opts.port ?? cfg.port;
      reject(
        err.code === 'EADDRINUSE'
          ? new BroadsheetError('INBOUND_PORT_IN_USE', { host, port: p }, { cause: err })
          : new BroadsheetError(
              'INBOUND_LISTEN',
              { host, port: p, detail: err.code ?? err.message },
              { cause: err },
            ),
      );
    };
    server.server.once('error', onError);
    server.listen(opts.port ?? cfg.port, host, () => {
      server.server.off('error', onError);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  log.info(
    { host, port, lmtp, starttls: Boolean(tls), maxBytes: cfg.maxBytes, recipients: accepted },
    `inbound: ${lmtp ? 'LMTP' : 'SMTP'} listening on ${shown}:${port}`,
  );

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    lmtp,
    url: `${lmtp ? 'lmtp' : 'smtp'}://${shown}:${port}`,
    accepted: () => count,
    close: () => {
      closing ??= new Promise<void>((resolve) => server.close(() => resolve())).then(async () => {
        // Sessions are closed; a message whose end-of-data arrived is still being stored: let it finish.
        while (inFlight.size) await Promise.allSettled([...inFlight]);
      });
      return closing;
    },
  };
}
