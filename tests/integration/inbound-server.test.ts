import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.ts';
import type { InboundConfig } from '../../src/inbound/config.ts';
import { processInbound } from '../../src/inbound/process.ts';
import {
  addressMatcher,
  type InboundDeps,
  type ProcessInbound,
  type RunningInbound,
  recipientMatcher,
  startInboundServer,
} from '../../src/inbound/server.ts';
import { fixture, inboundWorld } from '../fixtures/inbound/store.ts';
import { makeTestPki } from '../helpers/smtp-tls.ts';
import { needs } from '../helpers/system.ts';

// The listener for real on 127.0.0.1, driven by nodemailer (SMTP and LMTP) and
// by bare sockets; the messages go through the real processInbound and store.

const VERP_1 = 'bounces+qxwcugmiev2aazoz42gadgkqjy@news.example.com'; // reader 1's token in the fixtures

const running: RunningInbound[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
});

function world(inbound: Partial<InboundConfig> = {}) {
  const w = inboundWorld();
  const config = { ...w.ctx.config, inbound: { ...w.ctx.config.inbound, ...inbound } } as Config;
  const deps: InboundDeps = { ...w.deps, config };
  return { ...w, deps };
}

async function listen(deps: InboundDeps, proc: ProcessInbound = processInbound, lmtp = false) {
  const s = await startInboundServer(deps, proc, { port: 0, lmtp });
  running.push(s);
  return s;
}

const transport = (port: number, o: { lmtp?: boolean; localAddress?: string } = {}) =>
  createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    ...(o.lmtp && { lmtp: true }),
    ...(o.localAddress && { localAddress: o.localAddress }),
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 5000,
  } as never);

type SmtpErr = Error & { responseCode?: number; response?: string };
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the server to refuse');
    },
    (e: SmtpErr) => e,
  );

describe('inbound listener (SMTP)', () => {
  it('a hard DSN to the VERP address is stored and bounces its reader; 250 names the stored message', async () => {
    const w = world();
    const s = await listen(w.deps);
    expect(w.status(1)).toBe('active');
    const info = await transport(s.port).sendMail({
      envelope: { from: '', to: [VERP_1] },
      raw: fixture('postfix-hard-5.1.1.eml'),
    });
    expect(info.response).toMatch(/^250 .*stored as \d+/);
    expect(w.status(1)).toBe('bounced');
    expect(w.count('SELECT count(*) AS n FROM inbound_messages')).toBe(1);
    expect(
      w.count("SELECT count(*) AS n FROM mail_events WHERE kind = 'bounce_hard' AND subscriber_id = 1"),
    ).toBe(1);
    expect(s.accepted()).toBe(1);
  });

  it('refuses an unknown recipient with 550 5.1.1 and stores nothing', async () => {
    const w = world();
    const s = await listen(w.deps);
    const e = await failure(
      transport(s.port).sendMail({
        envelope: { from: 'x@example.org', to: ['editor@news.example.com'] },
        raw: 'Subject: hi\r\n\r\nhello\r\n',
      }),
    );
    expect(e.responseCode).toBe(550);
    expect(e.response).toMatch(/^550 5\.1\.1 /);
    expect(w.count('SELECT count(*) AS n FROM inbound_messages')).toBe(0);
  });

  it('accepts the unsubscribe mailbox and the plain bounce address; sub-addresses only of those', () => {
    const m = recipientMatcher(['bounces@news.example.com', 'unsubscribe@news.example.com']);
    expect(m('Unsubscribe@News.Example.com')).toBe(true);
    expect(m('bounces@news.example.com')).toBe(true);
    expect(m(VERP_1)).toBe(true);
    expect(m('bounces+x@other.example.com')).toBe(false);
    expect(m('digest@news.example.com')).toBe(false);
    expect(m('+x@news.example.com')).toBe(false);
  });

  it('refuses a message over maxBytes with 552 5.3.4 and stores nothing', async () => {
    const w = world({ maxBytes: 4096 });
    const s = await listen(w.deps);
    const e = await failure(
      transport(s.port).sendMail({
        envelope: { from: '', to: [VERP_1] },
        raw: `Subject: big\r\n\r\n${'x'.repeat(76)}\r\n`.repeat(100),
      }),
    );
    expect(e.responseCode).toBe(552);
    expect(e.response).toMatch(/^552 5\.3\.4 /);
    expect(w.count('SELECT count(*) AS n FROM inbound_messages')).toBe(0);
  });

  it('refuses a client outside allowFrom at connect (554)', async () => {
    const w = world({ allowFrom: ['127.0.0.1/32'] });
    const s = await listen(w.deps);
    const e = await failure(
      transport(s.port, { localAddress: '127.0.0.2' }).sendMail({
        envelope: { from: '', to: [VERP_1] },
        raw: fixture('postfix-hard-5.1.1.eml'),
      }),
    );
    expect(e.responseCode).toBe(554);
    expect(w.status(1)).toBe('active');
    const allowed = addressMatcher(['127.0.0.1/32', '10.0.0.0/8', '::1']);
    expect([allowed('127.0.0.1'), allowed('::ffff:127.0.0.1'), allowed('10.9.8.7'), allowed('::1')]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect([allowed('127.0.0.2'), allowed('192.168.1.1'), allowed('::2')]).toEqual([false, false, false]);
  });

  it('drops a client that stalls after the greeting once socketTimeoutMs passes', async () => {
    const w = world({ socketTimeoutMs: 300 });
    const s = await listen(w.deps);
    const sock: Socket = connect(s.port, '127.0.0.1');
    let said = '';
    sock.setEncoding('utf8').on('data', (d: string) => {
      said += d;
    });
    await new Promise<void>((resolve) => sock.once('close', () => resolve()));
    expect(said).toMatch(/^220 /);
    expect(said).toMatch(/\r\n421 /); // the server said why before it closed
  });

  it('answers 451 4.3.0 when storing fails, so the sender keeps the message', async () => {
    const w = world();
    const s = await listen(w.deps, async () => {
      throw new Error('disk full');
    });
    const e = await failure(
      transport(s.port).sendMail({
        envelope: { from: '', to: [VERP_1] },
        raw: fixture('postfix-hard-5.1.1.eml'),
      }),
    );
    expect(e.responseCode).toBe(451);
    expect(e.response).toMatch(/^451 4\.3\.0 /);
  });

  it('close() waits for a message being stored, which is then answered 250', async () => {
    const w = world();
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    const s = await startInboundServer(
      w.deps,
      async (deps, raw, meta) => {
        entered();
        await new Promise<void>((r) => {
          release = r;
        });
        return processInbound(deps, raw, meta);
      },
      { port: 0 },
    );
    const sent = transport(s.port).sendMail({
      envelope: { from: '', to: [VERP_1] },
      raw: fixture('postfix-hard-5.1.1.eml'),
    });
    await inside;
    let closed = false;
    const closing = s.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    release();
    const info = await sent;
    await closing;
    expect(info.response).toMatch(/^250 /);
    expect(w.status(1)).toBe('bounced');
    // Stopped: nobody is listening any more.
    const e = await failure(transport(s.port).sendMail({ envelope: { from: '', to: [VERP_1] }, raw: 'x' }));
    expect((e as { code?: string }).code).toBe('ESOCKET');
  });
});

describe('inbound listener (LMTP)', () => {
  it('answers per recipient: the DSN is stored, an unknown recipient refused', async () => {
    const w = world({ lmtp: true });
    const s = await listen(w.deps, processInbound, true);
    expect(s.url).toMatch(/^lmtp:\/\/127\.0\.0\.1:\d+$/);
    const info = await transport(s.port, { lmtp: true }).sendMail({
      envelope: { from: '', to: [VERP_1, 'nobody@news.example.com'] },
      raw: fixture('postfix-hard-5.1.1.eml'),
    });
    expect(info.accepted).toEqual([VERP_1]);
    expect(info.rejected).toEqual(['nobody@news.example.com']);
    expect(w.status(1)).toBe('bounced');
  });
});

describe.skipIf(!needs('openssl', 'openssl'))('inbound listener (STARTTLS)', () => {
  it('offers STARTTLS only with a certificate; a TLS session delivers; unreadable files are INBOUND_TLS_FILES', async () => {
    const pki = makeTestPki();
    const w = world();
    const tls = { certFile: join(pki.dir, 'good.pem'), keyFile: join(pki.dir, 'good.key') };
    const s = await startInboundServer(w.deps, processInbound, { port: 0, tls });
    running.push(s);
    const info = await createTransport({
      host: '127.0.0.1',
      port: s.port,
      secure: false,
      requireTLS: true,
      tls: { ca: [readFileSync(pki.caFile)] },
    }).sendMail({ envelope: { from: '', to: [VERP_1] }, raw: fixture('postfix-hard-5.1.1.eml') });
    expect(info.response).toMatch(/^250 /);
    expect(w.status(1)).toBe('bounced');

    const plain = await listen(world().deps);
    const e = await failure(
      createTransport({ host: '127.0.0.1', port: plain.port, secure: false, requireTLS: true }).sendMail({
        envelope: { from: '', to: [VERP_1] },
        raw: 'x',
      }),
    );
    expect(e.message).toMatch(/STARTTLS/);

    const code = await startInboundServer(w.deps, processInbound, {
      port: 0,
      tls: { certFile: join(pki.dir, 'missing.pem'), keyFile: tls.keyFile },
    }).then(
      () => 'started',
      (err: { code?: string }) => err.code,
    );
    expect(code).toBe('INBOUND_TLS_FILES');
  });
});
