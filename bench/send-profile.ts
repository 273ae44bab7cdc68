// Profile helper (brief I): the sender's per-message CPU without SMTP — ledger
// enqueue/stream, merge, compose, and the two ledger writes — for N readers.
// Also prints the time the sending thread spent inside the ledger's writes
// (commits, `sent` flushes, any WAL checkpoint they ran, and the checkpoints
// the sending connection runs itself): every connection waits while it runs.
//   node --cpu-prof --import tsx bench/send-profile.ts [--messages N]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sendEdition } from '../src/delivery/send.ts';
import type { Transport } from '../src/delivery/transport.ts';
import { Ledger, openStore, SubscriberRepo } from '../src/store/index.ts';
import { bigDigest, testContext } from '../tests/fixtures/delivery/ctx.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '2000' } } });
const N = Number(values.messages);
const big = bigDigest;
const dir = mkdtempSync(join(tmpdir(), 'bench-sendprof-'));
const ctx = testContext(dir, { delivery: { connections: 5 } });
const db = openStore(ctx.paths.store);
new SubscriberRepo(db).upsertMany(
  Array.from({ length: N }, (_, i) => ({ email: `reader${i}@example.com` })),
  'bench',
);
let inLedger = 0;
for (const name of ['markCommitted', 'flush'] as const) {
  const original = Ledger.prototype[name] as (...a: unknown[]) => unknown;
  (Ledger.prototype as unknown as Record<string, unknown>)[name] = function (this: Ledger, ...a: unknown[]) {
    const t = performance.now();
    try {
      return original.apply(this, a);
    } finally {
      inLedger += performance.now() - t;
    }
  };
}
// The checkpoint the sending connection runs itself (src/store/ledger-checkpoint.ts) counts too.
const pragma = db.pragma.bind(db);
db.pragma = ((source: string, options?: Parameters<typeof db.pragma>[1]) => {
  const t = performance.now();
  try {
    return pragma(source, options);
  } finally {
    if (source.includes('checkpoint')) inLedger += performance.now() - t;
  }
}) as typeof db.pragma;
let bytes = 0;
const transport: Transport = {
  name: 'smtp',
  async send(m) {
    bytes += m.raw.length;
    m.commit?.();
    // A reply is another event-loop turn, as on a socket (the `sent` marks' flush runs between).
    await new Promise((r) => setImmediate(r));
    return { accepted: [m.recipient], rejected: [], response: '250 ok', messageId: m.messageId } as never;
  },
};
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const s = await sendEdition(
  ctx,
  db,
  { editionId: 'daily-2025-12-10', list: 'daily', listName: '每日簡報', digest: big },
  { transport },
);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  `${s.sent} messages, ${(ms / s.sent).toFixed(3)} ms each, ${Math.round(s.sent / (ms / 1000))} msg/s, ${Math.round(bytes / s.sent)} B; ` +
    `CPU ${((cpu.user + cpu.system) / 1000 / s.sent).toFixed(3)} ms each (all threads); ` +
    `sending thread inside ledger writes and checkpoints ${(inLedger / s.sent).toFixed(3)} ms each`,
);
