import { type ChildProcess, fork } from 'node:child_process';

// The loopback SMTP sink the kill checks use (bench/scale-out-check.ts,
// bench/send-kill-check.ts): smtp-server in a child process of its own, so the
// senders' CPU and its own do not share a thread; it keeps no message, only
// counts by envelope recipient and by Message-ID. A message counts as received
// when its end-of-data arrived, as a real MTA would queue it.

export interface SinkTally {
  count: number;
  /** First to last end-of-data, ms. */
  ms: number;
  byAddress: [string, number][];
  byMessageId: [string, number][];
}

export interface CountingSink {
  proc: ChildProcess;
  port: number;
  count(): Promise<number>;
  tally(): Promise<SinkTally>;
}

/** Fork the sink and wait for its port. */
export async function startCountingSink(): Promise<CountingSink> {
  const proc = fork(import.meta.filename, ['--counting-sink'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((r) => proc.once('message', (m: { port: number }) => r(m.port)));
  // Each question carries an id and each answer names it, so callers may ask at once
  // (a progress watch beside a kill loop) without taking each other's answers.
  const pending = new Map<number, (m: unknown) => void>();
  let next = 0;
  proc.on('message', (m: { id?: number; answer?: unknown }) => {
    if (m.id === undefined) return;
    pending.get(m.id)?.(m.answer);
    pending.delete(m.id);
  });
  const ask = <T>(what: 'count' | 'tally') =>
    new Promise<T>((r) => {
      const id = next++;
      pending.set(id, r as (m: unknown) => void);
      proc.send({ id, what });
    });
  return {
    proc,
    port,
    count: async () => (await ask<{ count: number }>('count')).count,
    tally: () => ask<SinkTally>('tally'),
  };
}

async function serve() {
  const { SMTPServer } = await import('smtp-server');
  const byAddress = new Map<string, number>();
  const byMessageId = new Map<string, number>();
  let count = 0;
  let first = 0;
  let last = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    maxClients: 500,
    onData(stream, session, cb) {
      // Only the first 8 KB (the header) is read: a message's body is never kept.
      let head = '';
      stream.on('data', (c: Buffer) => {
        if (head.length < 8192 && !head.includes('\r\n\r\n'))
          head += c.toString('latin1', 0, Math.min(c.length, 8192 - head.length));
      });
      stream.on('end', () => {
        count++;
        last = performance.now();
        first ||= last;
        for (const r of session.envelope.rcptTo)
          byAddress.set(r.address, (byAddress.get(r.address) ?? 0) + 1);
        const match = /^message-id:\s*(\S+)/im.exec(head.split('\r\n\r\n')[0] ?? '')?.[1];
        // A copy, not a slice: V8 keeps a regex match's parent string alive
        // (the whole header here), which was ~55 KB per message at 100,000 readers.
        const id = match ? Buffer.from(match, 'latin1').toString('latin1') : '(none)';
        byMessageId.set(id, (byMessageId.get(id) ?? 0) + 1);
        cb();
      });
    },
  });
  // A SIGKILLed sender's connections reset: that is the point of the run, not a sink failure.
  server.on('error', () => {});
  server.listen(0, '127.0.0.1', () =>
    process.send!({ port: (server.server.address() as { port: number }).port }),
  );
  process.on('message', ({ id, what }: { id: number; what: 'count' | 'tally' }) => {
    if (what === 'count') process.send!({ id, answer: { count } });
    if (what === 'tally')
      process.send!({
        id,
        answer: {
          count,
          ms: last - first,
          byAddress: [...byAddress],
          byMessageId: [...byMessageId],
        } satisfies SinkTally,
      });
  });
}

if (process.argv[2] === '--counting-sink') await serve();
