import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { BroadsheetError, isBroadsheetError } from '../errors/index.ts';
import type { ImapConfig } from './config.ts';
import type { InboundDeps, ProcessInbound } from './server.ts';

// The IMAP poller: the alternative to the listener for a newsroom whose bounce
// address is a mailbox at its mail provider. Each poll connects, takes the
// unseen messages (source fetched with BODY.PEEK, so a failed run leaves them
// unseen for the next poll), hands each to processInbound with the external id
// imap:<uidvalidity>:<uid> (a message processed twice — a crash between storing
// and flagging — is still counted once), then moves it to
// inbound.imap.processedMailbox or flags it \Seen. Every failure becomes one of
// the INBOUND_IMAP_* codes; the daemon logs it and tries again at the next poll.

export interface ImapTarget {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  pass: string;
  mailbox: string;
}

/** IMAP_URL → where and how to log in: imaps://user:pass@host[:993]/MAILBOX (imap:// on 143; mailbox INBOX when omitted). */
export function parseImapUrl(url: string | undefined): ImapTarget {
  if (!url?.trim()) throw new BroadsheetError('INBOUND_IMAP_URL', { detail: 'IMAP_URL is not set' });
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new BroadsheetError('INBOUND_IMAP_URL', { detail: 'IMAP_URL is not a URL' });
  }
  if (u.protocol !== 'imaps:' && u.protocol !== 'imap:')
    throw new BroadsheetError('INBOUND_IMAP_URL', {
      detail: `IMAP_URL must start with imaps:// or imap://, not ${u.protocol}//`,
    });
  if (!u.hostname || !u.username)
    throw new BroadsheetError('INBOUND_IMAP_URL', { detail: 'IMAP_URL needs a user and a host' });
  const secure = u.protocol === 'imaps:';
  const mailbox = decodeURIComponent(u.pathname.replace(/^\/+/, '')) || 'INBOX';
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : secure ? 993 : 143,
    secure,
    user: decodeURIComponent(u.username),
    pass: decodeURIComponent(u.password),
    mailbox,
  };
}

export interface PollResult {
  /** Unseen messages found. */
  found: number;
  /** Handed to processInbound and then moved or flagged. */
  processed: number;
  /** Over inbound.maxBytes: flagged \Seen (or moved) without processing, logged. */
  skipped: number;
}

type ImapErr = Error & {
  code?: string;
  authenticationFailed?: boolean;
  responseStatus?: string;
  responseText?: string;
  serverResponseCode?: string;
};

const REFUSED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);
const DROPPED = new Set([
  'NoConnection',
  'ECONNRESET',
  'EPIPE',
  'EConnectionClosed',
  'ClosedAfterConnectTLS',
]);
const TIMEOUT_STAGE: Record<string, string> = {
  CONNECT_TIMEOUT: 'connect',
  GREETING_TIMEOUT: 'greeting',
  ETIMEOUT: 'no reply on the open connection',
  UPGRADE_TIMEOUT: 'STARTTLS',
};

/** Any failure of a poll as one catalog error. `stage` is what the poll was doing. */
export function imapError(raw: unknown, t: ImapTarget, cfg: ImapConfig, stage: string): BroadsheetError {
  if (isBroadsheetError(raw)) return raw;
  const err = raw as ImapErr;
  const code = err?.code ?? '';
  const detail = `${err?.message ?? String(raw)}${code ? ` (${code})` : ''}`;
  const cause = { cause: raw };
  if (err?.authenticationFailed)
    return new BroadsheetError('INBOUND_IMAP_AUTH', { host: t.host, user: t.user }, cause);
  if (REFUSED.has(code))
    return new BroadsheetError('INBOUND_IMAP_REFUSED', { host: t.host, port: t.port, detail }, cause);
  if (TIMEOUT_STAGE[code]) {
    const ms =
      code === 'CONNECT_TIMEOUT'
        ? cfg.connectionTimeoutMs
        : code === 'GREETING_TIMEOUT'
          ? cfg.greetingTimeoutMs
          : cfg.socketTimeoutMs;
    return new BroadsheetError(
      'INBOUND_IMAP_TIMEOUT',
      { host: t.host, port: t.port, stage: TIMEOUT_STAGE[code]!, ms },
      cause,
    );
  }
  if (
    /^(ERR_SSL|ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY))/.test(code) ||
    /\bSSL\b|TLS/.test(err?.message ?? '')
  )
    return new BroadsheetError('INBOUND_IMAP_TLS', { host: t.host, detail }, cause);
  if (DROPPED.has(code)) return new BroadsheetError('INBOUND_IMAP_DROPPED', { host: t.host, detail }, cause);
  if (
    stage.startsWith('mailbox') &&
    (err?.responseStatus === 'NO' || err?.responseStatus === 'BAD' || code === 'NotFound')
  )
    return new BroadsheetError(
      'INBOUND_IMAP_MAILBOX',
      { mailbox: stage.slice('mailbox '.length), detail: err.responseText ?? detail },
      cause,
    );
  return new BroadsheetError('INBOUND_IMAP_FAILED', { host: t.host, detail: `${stage}: ${detail}` }, cause);
}

function client(t: ImapTarget, cfg: ImapConfig): ImapFlow {
  let ca: Buffer | undefined;
  if (cfg.caFile) {
    try {
      ca = readFileSync(cfg.caFile);
    } catch (err) {
      throw new BroadsheetError(
        'INBOUND_IMAP_TLS',
        { host: t.host, detail: `cannot read inbound.imap.caFile ${cfg.caFile}` },
        { cause: err },
      );
    }
  }
  const c = new ImapFlow({
    host: t.host,
    port: t.port,
    secure: t.secure,
    auth: { user: t.user, pass: t.pass },
    logger: false,
    // No IDLE between commands: one poll is a short session.
    disableAutoIdle: true,
    connectionTimeout: cfg.connectionTimeoutMs,
    greetingTimeout: cfg.greetingTimeoutMs,
    socketTimeout: cfg.socketTimeoutMs,
    ...(ca && { tls: { ca: [ca] } }),
  });
  // Without a listener an 'error' event (a reset after login) would end the process.
  c.on('error', () => {});
  return c;
}

/** One poll: connect, process every unseen message, move or flag it, log out. */
export async function pollOnce(
  deps: InboundDeps,
  processInbound: ProcessInbound,
  t: ImapTarget,
): Promise<PollResult> {
  const cfg = deps.config.inbound.imap;
  const maxBytes = deps.config.inbound.maxBytes;
  const log = deps.logger;
  const res: PollResult = { found: 0, processed: 0, skipped: 0 };
  let stage = 'connect';
  const c = client(t, cfg);
  try {
    await c.connect();
    const target = cfg.processedMailbox;
    if (target) {
      stage = `mailbox ${target}`;
      await c.mailboxCreate(target); // ALREADYEXISTS is not an error (created: false)
    }
    stage = `mailbox ${t.mailbox}`;
    const lock = await c.getMailboxLock(t.mailbox);
    try {
      const box = c.mailbox;
      const uidValidity = box && typeof box === 'object' ? String(box.uidValidity) : '0';
      stage = 'search';
      const uids = (await c.search({ seen: false }, { uid: true })) || [];
      res.found = uids.length;
      for (const uid of uids) {
        stage = `fetch ${uid}`;
        const meta = await c.fetchOne(String(uid), { uid: true, size: true, envelope: false }, { uid: true });
        if (meta === false) continue; // expunged meanwhile
        const size = meta.size ?? 0;
        if (size > maxBytes) {
          log.warn(
            { uid, size, maxBytes, mailbox: t.mailbox },
            `inbound: IMAP message ${uid} is ${size} bytes, over inbound.maxBytes (${maxBytes}): left for a human, not processed`,
          );
          res.skipped++;
        } else {
          const msg = await c.fetchOne(
            String(uid),
            { uid: true, source: { maxLength: maxBytes } },
            { uid: true },
          );
          if (msg === false || !msg.source) continue;
          stage = `process ${uid}`;
          const externalId = `imap:${uidValidity}:${uid}`;
          const out = await processInbound(deps, msg.source, { source: 'imap', rcptTo: [], externalId });
          log.info(
            { uid, externalId, inboundId: out.inboundId, classified: out.classified, events: out.events },
            `inbound: IMAP message ${uid} stored as ${out.inboundId} (${out.classified}${out.events.length ? `: ${out.events.map((e) => `${e.kind} → ${e.action}`).join(', ')}` : ''})`,
          );
          res.processed++;
        }
        // Stored (or set aside): move it out of the way, or mark it seen so the next poll skips it.
        if (target) {
          stage = `mailbox ${target}`;
          await c.messageMove(String(uid), target, { uid: true });
        } else {
          stage = `flag ${uid}`;
          await c.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
        }
      }
    } finally {
      lock.release();
    }
    stage = 'logout';
    await c.logout();
    return res;
  } catch (err) {
    c.close();
    throw imapError(err, t, cfg, stage);
  }
}

export interface RunningPoller {
  /** Stop after the poll under way (if any) ends; resolves then. */
  stop(): Promise<void>;
}

/** The daemon's loop: a poll now, then one every inbound.imap.pollSeconds; failures are logged and retried. */
export function startImapPoller(
  deps: InboundDeps,
  processInbound: ProcessInbound,
  t: ImapTarget,
): RunningPoller {
  const log = deps.logger;
  const every = deps.config.inbound.imap.pollSeconds * 1000;
  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const loop = (async () => {
    while (!stopped) {
      try {
        const r = await pollOnce(deps, processInbound, t);
        log.info(
          { ...r, mailbox: t.mailbox },
          `inbound: IMAP poll of ${t.mailbox}: ${r.processed} processed`,
        );
      } catch (err) {
        const e = err as BroadsheetError;
        log.error(
          { code: e.code, err },
          `inbound: IMAP poll failed: ${e.code}: ${e.message}; retrying in ${every / 1000} s`,
        );
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, every);
      });
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
