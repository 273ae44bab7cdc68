import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

// Raw TCP servers on 127.0.0.1 for the SMTP faults smtp-server cannot play:
// a port that accepts and never greets, and a server that drips its replies
// one byte at a time (which keeps resetting an idle timer forever).

export interface RawServer {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

type Mode =
  | { kind: 'silent' }
  /** Drip the greeting itself. */
  | { kind: 'drip-greeting'; everyMs: number }
  /** Greet at once, then drip the reply to EHLO. */
  | { kind: 'drip-ehlo'; everyMs: number }
  /** A normal session up to MAIL FROM, whose reply is dripped. */
  | { kind: 'drip-mail'; everyMs: number };

export async function startRawSmtp(mode: Mode): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state = { connections: 0 };
  const drip = (c: Socket, text: string, everyMs: number) => {
    let i = 0;
    const t = setInterval(() => {
      if (c.destroyed) return clearInterval(t);
      c.write(text[i++ % text.length]!);
    }, everyMs);
    timers.add(t);
  };
  const server = createServer((c) => {
    state.connections++;
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.on('error', () => {});
    if (mode.kind === 'drip-greeting') drip(c, '220 slow.example ESMTP ready\r\n', mode.everyMs);
    if (mode.kind === 'drip-ehlo') {
      c.write('220 slow.example ESMTP\r\n');
      c.once('data', () => drip(c, '250-slow.example\r\n', mode.everyMs)); // never the final "250 " line
    }
    if (mode.kind === 'drip-mail') {
      c.write('220 slow.example ESMTP\r\n');
      let buf = '';
      c.on('data', (d) => {
        buf += d.toString('latin1');
        if (/^EHLO /im.test(buf) && !buf.includes('#ehlo')) {
          buf += '#ehlo';
          c.write('250 slow.example\r\n');
        }
        if (/^MAIL FROM/im.test(buf) && !buf.includes('#mail')) {
          buf += '#mail';
          drip(c, '250-still thinking\r\n', mode.everyMs);
        }
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const c of sockets) c.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 with nothing listening (taken from the kernel, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * A TCP proxy on 127.0.0.1 in front of `port`: `goAway()` cuts every open
 * connection and stops listening, so new ones are refused — a server that
 * goes away in the middle of a send (crashed, restarted, firewalled).
 */
export async function startGoAwayProxy(port: number): Promise<{ url: string; goAway(): void }> {
  const open = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.on('error', () => {});
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port: own } = proxy.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${own}`,
    goAway() {
      proxy.close();
      for (const s of open) s.destroy();
    },
  };
}
