import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sink, startSink, tally } from '../fixtures/delivery/sink.ts';
import { needsPostgres } from '../helpers/pg.ts';
import { EDITION, exited, type FanoutWorld, fanoutWorld } from './fanout-fixture.ts';

// `broadsheet send` on a PostgreSQL store (issue 17): with no worker running it
// works the edition's batches itself; a repeated send queues and sends nothing;
// --no-wait only queues, and a `worker` then sends them.

const pgOk = await needsPostgres();
const N = 300;

describe.skipIf(!pgOk)('send on PostgreSQL', () => {
  let sink: Sink;
  let w: FanoutWorld;
  beforeAll(async () => {
    sink = await startSink();
    w = await fanoutWorld(N, '  batchSize: 50\n  leaseSeconds: 4\n  pollSeconds: 0.5\n');
  });
  afterAll(async () => {
    await sink?.close();
    await w?.drop();
  });

  it('sends every reader once with no worker, and a repeated send sends nothing', async () => {
    const p = w.spawnCli(['send', '--edition', EDITION, '--transport', 'smtp'], { SMTP_URL: sink.url });
    const code = await exited(p);
    expect(code, p.output()).toBe(0);
    expect(p.output()).toMatch(new RegExp(`${EDITION} via smtp: sent ${N},`));
    const { byRecipient } = tally(sink.received);
    expect(byRecipient.size).toBe(N);
    expect([...byRecipient.values()].every((n) => n === 1)).toBe(true);
    expect((await w.counts()).sent).toBe(N);

    const again = w.spawnCli(['send', '--edition', EDITION, '--transport', 'smtp', '--json'], {
      SMTP_URL: sink.url,
    });
    expect(await exited(again), again.output()).toBe(0);
    expect(sink.received.length).toBe(N);
    expect(again.output()).toMatch(/"sent":\s*0/);
  }, 180_000);
});
