// Benchmark: the email digest (npx tsx bench/digest.ts).
// 1. Cold compile (first render in this process: loads mjml, warms cssnano)
//    and warm compile (median of later renders) of the sample edition.
// 2. Per-recipient merge against compiling per recipient (the warm compile),
//    measured in the same run; prints the ratio.
// 3. Bytes (raw, and after the worst-case merge the size guard uses) for
//    5, 10 and 20 stories with the sample 數讀 block.
// Ends with ONE JSON line {"bench":"digest", …}.
import { resolve } from 'node:path';
import { configSchema } from '../src/config/schema.ts';
import { loadContent } from '../src/content/load.ts';
import { type Context, resolvePaths } from '../src/context.ts';
import type { Edition } from '../src/edition/model.ts';
import { selectEdition } from '../src/edition/select.ts';
import { mergeRecipient, renderDigest } from '../src/email/index.ts';
import { silentLogger } from '../src/logger.ts';

const root = resolve(import.meta.dirname, '..');
const config = configSchema.parse({});
const ctx: Context = {
  config,
  secrets: {},
  logger: silentLogger(),
  clock: { now: () => new Date() },
  paths: resolvePaths(config, {}, root),
};
const seed = selectEdition(await loadContent(ctx.paths.content), config, {});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (n: number) => Math.round(n * 100) / 100;

function withStories(n: number): Edition {
  const articles = Array.from({ length: n }, (_, i) => {
    const a = seed.articles[i % seed.articles.length]!;
    return {
      ...a,
      id: `${a.id}-${i}`,
      url: `${a.url}-${i}`,
      priority: 100 - i,
      image: i === 0 ? a.image : undefined,
    };
  });
  return { ...seed, articles };
}

// 1. cold, then warm
let t = performance.now();
const digest = await renderDigest(seed, ctx);
const coldMs = performance.now() - t;
const warm: number[] = [];
for (let i = 0; i < 12; i++) {
  t = performance.now();
  await renderDigest(seed, ctx);
  warm.push(performance.now() - t);
}
const warmMs = median(warm);
console.log(`compile: cold ${ms(coldMs)} ms, warm ${ms(warmMs)} ms (median of ${warm.length})`);

// 2. merge per recipient vs compile per recipient
const N = 5000;
const recipients = Array.from({ length: N }, (_, i) => ({
  email: `reader${i}@example.com`,
  name: i % 3 ? `讀者${i}` : undefined,
  unsubscribeUrl: `https://news.example.com/broadsheet/u/token${i}.mac${i}`,
  viewOnlineUrl: 'https://news.example.com/broadsheet/archive/daily-2025-12-10',
}));
mergeRecipient(digest, recipients[0]!); // first call splits the digest once
let sink = 0;
t = performance.now();
for (const r of recipients) sink += mergeRecipient(digest, r).html.length;
const mergeUs = ((performance.now() - t) / N) * 1000;
const ratio = (warmMs * 1000) / mergeUs;
console.log(
  `merge: ${ms(mergeUs)} µs per recipient; compiling per recipient would cost ${ms(warmMs)} ms → merge is ${Math.round(ratio)}× cheaper (${sink > 0 ? 'ok' : ''})`,
);

// 3. bytes by story count
const bytes: Record<string, { raw: number; worstCase: number; dropped: number }> = {};
for (const n of [5, 10, 20]) {
  const d = await renderDigest(withStories(n), ctx);
  bytes[n] = { raw: Buffer.byteLength(d.html), worstCase: d.bytes, dropped: d.dropped.length };
  console.log(
    `${n} stories: ${bytes[n].raw} bytes raw, ${d.bytes} after worst-case merge (limit ${config.email.maxBytes}, Gmail clips at 102400), dropped ${d.dropped.length}`,
  );
}

console.log(
  JSON.stringify({
    bench: 'digest',
    coldCompileMs: ms(coldMs),
    warmCompileMs: ms(warmMs),
    mergeUsPerRecipient: ms(mergeUs),
    compileVsMergeRatio: Math.round(ratio),
    bytes,
    maxBytes: config.email.maxBytes,
  }),
);
