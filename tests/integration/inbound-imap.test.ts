import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.ts';
import { isBroadsheetError } from '../../src/errors/index.ts';
import type { InboundConfig } from '../../src/inbound/config.ts';
import { parseImapUrl, pollOnce, startImapPoller } from '../../src/inbound/imap.ts';
import { processInbound } from '../../src/inbound/process.ts';
import {
  type Dovecot,
  droppingImapServer,
  freePort,
  silentServer,
  startDovecot,
} from '../fixtures/inbound/servers/dovecot.ts';
import { fixture, inboundWorld } from '../fixtures/inbound/store.ts';
import { needs } from '../helpers/system.ts';

// The IMAP poller against a real Dovecot started for this file (plain IMAP on
// 127.0.0.1), messages APPENDed with imapflow as a mail provider would deliver them.

function world(imap: Partial<InboundConfig['imap']> = {}) {
  const w = inboundWorld();
  const inbound = { ...w.ctx.config.inbound, imap: { ...w.ctx.config.inbound.imap, ...imap } };
  return { ...w, deps: { ...w.deps, config: { ...w.ctx.config, inbound } as Config } };
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (isBroadsheetError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a failure');
};

describe.skipIf(!needs('dovecot', 'dovecot-imapd'))('inbound IMAP poller (Dovecot)', () => {
  let dc: Dovecot;
  let n = 0;
  /** A fresh mailbox per test, filled with these fixtures. */
  async function mailbox(...files: string[]) {
    const name = `Bounces${++n}`;
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: dc.port,
      secure: false,
      auth: { user: dc.user, pass: dc.pass },
      logger: false,
    });
    await c.connect();
    await c.mailboxCreate(name);
    for (const f of files) await c.append(name, fixture(f));
    await c.logout();
    return name;
  }
  async function inspect<T>(fn: (c: ImapFlow) => Promise<T>): Promise<T> {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: dc.port,
      secure: false,
      auth: { user: dc.user, pass: dc.pass },
      logger: false,
    });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.logout();
    }
  }
  const unseen = (box: string) =>
    inspect(async (c) => {
      const lock = await c.getMailboxLock(box);
      try {
        return ((await c.search({ seen: false }, { uid: true })) || []).length;
      } finally {
        lock.release();
      }
    });
  const total = (box: string) =>
    inspect(async (c) => {
      const s = await c.status(box, { messages: true });
      return s === false ? -1 : s.messages;
    });

  beforeAll(async () => {
    dc = await startDovecot();
  }, 30_000);
  afterAll(async () => {
    await dc?.stop();
  });

  it('processes unseen messages, flags them \\Seen, and a second poll counts nothing twice', async () => {
    const w = world();
    const box = await mailbox('postfix-hard-5.1.1.eml', 'spam.eml');
    const t = parseImapUrl(dc.url(box));
    expect(await pollOnce(w.deps, processInbound, t)).toEqual({ found: 2, processed: 2, skipped: 0 });
    expect(w.status(1)).toBe('bounced');
    expect(await unseen(box)).toBe(0);
    expect(await total(box)).toBe(2); // left in place
    const events = w.count('SELECT count(*) AS n FROM mail_events');
    const stored = w.count('SELECT count(*) AS n FROM inbound_messages');
    expect(stored).toBe(2);
    expect(await pollOnce(w.deps, processInbound, t)).toEqual({ found: 0, processed: 0, skipped: 0 });
    expect(w.count('SELECT count(*) AS n FROM mail_events')).toBe(events);

    // A crash between storing and flagging: the same messages come again (same uidvalidity:uid).
    await inspect(async (c) => {
      const lock = await c.getMailboxLock(box);
      try {
        await c.messageFlagsRemove('1:*', ['\\Seen']);
      } finally {
        lock.release();
      }
    });
    expect(await pollOnce(w.deps, processInbound, t)).toMatchObject({ found: 2, processed: 2 });
    expect(w.count('SELECT count(*) AS n FROM mail_events')).toBe(events);
    expect(w.count("SELECT count(*) AS n FROM mail_events WHERE kind = 'bounce_hard'")).toBe(1);
  });

  it('moves processed messages to processedMailbox (created when missing)', async () => {
    const w = world({ processedMailbox: 'Processed' });
    const box = await mailbox('postfix-hard-5.1.1.eml', 'out-of-office.eml', 'spam.eml');
    const r = await pollOnce(w.deps, processInbound, parseImapUrl(dc.url(box)));
    expect(r).toEqual({ found: 3, processed: 3, skipped: 0 });
    expect(await total(box)).toBe(0);
    expect(await total('Processed')).toBeGreaterThanOrEqual(3);
    expect(w.status(1)).toBe('bounced');
  });

  it('sets aside a message over maxBytes without processing it', async () => {
    const w = world();
    const config = { ...w.deps.config, inbound: { ...w.deps.config.inbound, maxBytes: 1024 } } as Config;
    const box = await mailbox('postfix-hard-5.1.1.eml');
    const r = await pollOnce({ ...w.deps, config }, processInbound, parseImapUrl(dc.url(box)));
    expect(r).toEqual({ found: 1, processed: 0, skipped: 1 });
    expect(w.status(1)).toBe('active');
    expect(w.count('SELECT count(*) AS n FROM inbound_messages')).toBe(0);
  });

  it('a wrong password is INBOUND_IMAP_AUTH', async () => {
    const w = world();
    expect(await codeOf(pollOnce(w.deps, processInbound, parseImapUrl(dc.url('INBOX', 'wrong'))))).toBe(
      'INBOUND_IMAP_AUTH',
    );
  });

  it('a missing mailbox is INBOUND_IMAP_MAILBOX', async () => {
    const w = world();
    expect(await codeOf(pollOnce(w.deps, processInbound, parseImapUrl(dc.url('NoSuchBox'))))).toBe(
      'INBOUND_IMAP_MAILBOX',
    );
  });

  it('imaps:// to a server without TLS is INBOUND_IMAP_TLS', async () => {
    const w = world({ connectionTimeoutMs: 3000 });
    const t = { ...parseImapUrl(dc.url()), secure: true };
    expect(await codeOf(pollOnce(w.deps, processInbound, t))).toBe('INBOUND_IMAP_TLS');
  });

  it('the daemon loop polls again after pollSeconds and stops cleanly', async () => {
    const w = world({ pollSeconds: 1 });
    const box = await mailbox('spam.eml');
    const poller = startImapPoller(w.deps, processInbound, parseImapUrl(dc.url(box)));
    const waitFor = async (pred: () => boolean) => {
      while (!pred()) await new Promise((r) => setTimeout(r, 50));
    };
    await waitFor(() => w.count('SELECT count(*) AS n FROM inbound_messages') === 1);
    // Delivered after the first poll: taken by a later one.
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: dc.port,
      secure: false,
      auth: { user: dc.user, pass: dc.pass },
      logger: false,
    });
    await c.connect();
    await c.append(box, fixture('postfix-hard-5.1.1.eml'));
    await c.logout();
    await waitFor(() => w.status(1) === 'bounced');
    await poller.stop();
  });
});

describe('inbound IMAP poller faults (no server needed)', () => {
  it('nothing listening is INBOUND_IMAP_REFUSED', async () => {
    const w = world();
    const port = await freePort();
    const t = parseImapUrl(`imap://u:p@127.0.0.1:${port}/INBOX`);
    expect(await codeOf(pollOnce(w.deps, processInbound, t))).toBe('INBOUND_IMAP_REFUSED');
  });

  it('a server that accepts and never greets is INBOUND_IMAP_TIMEOUT after greetingTimeoutMs', async () => {
    const w = world({ greetingTimeoutMs: 300 });
    const s = await silentServer();
    try {
      const t = parseImapUrl(`imap://u:p@127.0.0.1:${s.port}/INBOX`);
      expect(await codeOf(pollOnce(w.deps, processInbound, t))).toBe('INBOUND_IMAP_TIMEOUT');
    } finally {
      await s.close();
    }
  });

  it('a connection cut while fetching is INBOUND_IMAP_DROPPED, and nothing is stored', async () => {
    const w = world();
    const s = await droppingImapServer();
    try {
      const t = parseImapUrl(`imap://u:p@127.0.0.1:${s.port}/INBOX`);
      expect(await codeOf(pollOnce(w.deps, processInbound, t))).toBe('INBOUND_IMAP_DROPPED');
      expect(w.count('SELECT count(*) AS n FROM inbound_messages')).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('IMAP_URL: missing, wrong scheme, and the parts of a good one', () => {
    const code = (u: string | undefined) => {
      try {
        parseImapUrl(u);
        return 'ok';
      } catch (err) {
        return isBroadsheetError(err) ? err.code : String(err);
      }
    };
    expect(code(undefined)).toBe('INBOUND_IMAP_URL');
    expect(code('https://u:p@host/INBOX')).toBe('INBOUND_IMAP_URL');
    expect(code('imaps://host/INBOX')).toBe('INBOUND_IMAP_URL');
    expect(parseImapUrl('imaps://b%40x.org:p%3Ass@mail.example.org/Bounce%20box')).toEqual({
      host: 'mail.example.org',
      port: 993,
      secure: true,
      user: 'b@x.org',
      pass: 'p:ss',
      mailbox: 'Bounce box',
    });
    expect(parseImapUrl('imap://u:p@127.0.0.1').port).toBe(143);
    expect(parseImapUrl('imap://u:p@127.0.0.1').mailbox).toBe('INBOX');
  });
});
