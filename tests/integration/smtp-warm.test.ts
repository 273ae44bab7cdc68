import { afterEach, describe, expect, it } from 'vitest';
import { sendEdition } from '../../src/delivery/send.ts';
import { createSmtpTransport, parseSmtpUrl } from '../../src/delivery/transports/smtp.ts';
import { openStore, SubscriberRepo } from '../../src/store/index.ts';
import { digest, EDITION, tempDir, testContext } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink } from '../fixtures/delivery/sink.ts';

// A send opens all its connections at once: verify's connection and the others
// wait out the server's greeting delay together (smtp-server's early-talker
// 100 ms; Postfix's postscreen can hold a greeting for seconds), instead of the
// others starting only once verify's session is ready.

const READERS = Array.from({ length: 6 }, (_, i) => `reader${i}@example.com`);
const input = { editionId: EDITION, list: 'daily', listName: '每日簡報', digest };
let sink: Sink | undefined;
afterEach(() => sink?.close());

async function sendTo(s: Sink, url = s.url) {
  const ctx = testContext(tempDir('bs-warm-'), { delivery: { connections: 3 } });
  const db = openStore(ctx.paths.store);
  new SubscriberRepo(db).upsertMany(
    READERS.map((email) => ({ email })),
    'test',
  );
  const transport = createSmtpTransport(parseSmtpUrl(url), { connections: 3, maxMessagesPerConnection: 100 });
  try {
    return await sendEdition(ctx, db, input, { transport });
  } finally {
    await transport.close?.();
    db.close();
  }
}

describe('the connections of a send open together', () => {
  it('every connection is accepted before the first greeting is sent', async () => {
    sink = await startSink(() => undefined, { greetingDelayMs: 400 });
    const s = await sendTo(sink);
    expect(s.sent).toBe(READERS.length);
    expect(sink.connectedAt).toHaveLength(3);
    const firstGreeting = Math.min(...sink.greetedAt);
    for (const at of sink.connectedAt) expect(at).toBeLessThan(firstGreeting);
    expect(sink.received.map((r) => r.to[0]).sort()).toEqual([...READERS].sort());
  });

  it('with AUTH, the others log in only after verify has: each connection logs in once, rightly', async () => {
    const auth = { user: 'newsroom', pass: 'right' };
    sink = await startSink(() => undefined, { auth, greetingDelayMs: 200 });
    const s = await sendTo(sink, `smtp://newsroom:right@127.0.0.1:${sink.port}`);
    expect(s.sent).toBe(READERS.length);
    expect(sink.connectedAt).toHaveLength(3);
    expect(sink.authAttempts).toBe(3);
    expect(new Set(sink.received.map((r) => r.user))).toEqual(new Set(['newsroom']));
  });

  it('a server that takes one connection at a time (421 to the others at once): every reader gets one message', async () => {
    // Postfix's smtpd_client_connection_count_limit, Exchange's "421 4.3.2 maximum number of
    // concurrent connections": the warm-up connections meet it at the start of every send.
    sink = await startSink(() => undefined, { maxClients: 1 });
    const s = await sendTo(sink);
    expect(s.stopped).toBeUndefined();
    expect(s.sent).toBe(READERS.length);
    // The refused connections cost no message a retry.
    expect(s.retried).toBe(0);
    expect(sink.connectedAt.length).toBeGreaterThan(1);
    expect(sink.received.map((r) => r.to[0]).sort()).toEqual([...READERS].sort());
    expect(new Set(sink.received.map((r) => r.messageId)).size).toBe(READERS.length);
  });
});
