// Comparison: the og card now against the code before issue 16, in ONE process
// (npm run bench cards-before; run only when named, ~1.5 min; needs the git
// history). Issue 16's card goal is absolute (≤ 10 ms) and was set on a
// machine where that code drew an og card in 16.3 ms; machines here differ by
// 1.2–1.6× in card speed from one session to the next. This prints the ratio,
// which does not depend on the machine: both renderers draw the same og cards,
// card by card, each right after Chromium draws one (as bench/cards.ts
// alternates), the order swapped every card.
//
// "Before" is commit 2f08be3 (the last before 1f25620, issue 16's first
// change), extracted with `git archive` into a temporary folder, with this
// checkout's node_modules linked (its packages are a subset, same versions).
// It drew no photos or portraits (the sample's cards had none then), so the
// cards are compared twice: the same 39 og cards without them (like for like),
// and today's as bench/cards.ts draws them (3 photos, 1 portrait) against the
// old ones. V8's flags are per process: the old code runs without
// pretenuring too (src/cards/gc.ts), which if anything flatters it.
// Ends with ONE JSON line {"bench":"cards-before", …}.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type CardJob, renderCard } from '../src/cards/render.ts';
import { testContext } from '../tests/helpers/context.ts';
import { sampleCards } from '../tests/helpers/sample-cards.ts';
import { chromiumPeer } from './_chromium-peer.ts';

const BEFORE = '2f08be3';
/** The issue's figures for the code before, on the machine it was written on. */
const ISSUE = { beforeMs: 16.3, goalMs: 10 };
const ROUNDS = Number(process.env.BENCH_CARDS_BEFORE_ROUNDS ?? 3);

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'bench-cards-before-'));
const old = join(work, 'old');
try {
  mkdirSync(old);
  try {
    const tar = execFileSync('git', ['-C', root, 'archive', '--format=tar', BEFORE], {
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', old], { input: tar });
  } catch (err) {
    console.log(
      `cards-before skipped: commit ${BEFORE} is not in this checkout's history (a shallow clone?): ${(err as Error).message.split('\n')[0]}`,
    );
    process.exit(0);
  }
  symlinkSync(join(root, 'node_modules'), join(old, 'node_modules'), 'dir');

  // The old code's own modules, and its og cards built as its bench built them.
  const oldRender = await import(join(old, 'src/cards/render.ts'));
  const { editionItems } = await import(join(old, 'src/cards/items.ts'));
  const { configSchema } = await import(join(old, 'src/config/schema.ts'));
  const { loadContent } = await import(join(old, 'src/content/load.ts'));
  const { resolvePaths } = await import(join(old, 'src/context.ts'));
  const { selectEdition } = await import(join(old, 'src/edition/select.ts'));
  const oc = configSchema.parse({});
  const op = resolvePaths(oc, {}, old);
  const items = editionItems(selectEdition(await loadContent(op.content), oc, {}), {
    kinds: oc.cards.kinds,
    contentDir: op.content,
    brandUrl: oc.brand.url,
  }) as { itemId: string; kind: string; data: unknown }[];
  const oldJobs = items.map((it) => ({
    id: `${it.itemId}/og`,
    kind: it.kind,
    format: 'og',
    data: it.data,
    templatesDir: op.templates,
    brand: { name: oc.brand.name, url: oc.brand.url, colors: oc.brand.colors },
    pngCompression: oc.cards.pngCompression,
    renderer: oc.cards.renderer,
  }));

  const { jobsFor } = await sampleCards(testContext({ root, paths: { out: join(work, 'out') } }));
  const withPhotos = await jobsFor(['og']);
  const withoutPhotos = withPhotos.map((j): CardJob => {
    const { photo: _p, portrait: _q, ...data } = j.data as unknown as Record<string, unknown>;
    return { ...j, data: data as never };
  });
  if (withPhotos.length !== oldJobs.length || withPhotos.some((j, i) => j.id !== oldJobs[i]!.id))
    throw new Error(`the og cards differ: ${withPhotos.length} now, ${oldJobs.length} before`);

  const peer = await chromiumPeer();
  if ('skipped' in peer) {
    console.log(`cards-before skipped: Chromium is not installed: ${peer.skipped}`);
    process.exit(0);
  }
  const viaChromium = peer.draw;

  const draw = {
    before: (i: number) => oldRender.renderCard(oldJobs[i]) as Promise<unknown>,
    nowSame: (i: number) => renderCard(withoutPhotos[i]!),
    now: (i: number) => renderCard(withPhotos[i]!),
  };
  type Who = keyof typeof draw;
  const total: Record<Who, number> = { before: 0, nowSame: 0, now: 0 };
  let chromiumMs = 0;
  let chromiumN = 0;
  // Warm all three and Chromium on every card first.
  for (let i = 0; i < oldJobs.length; i++) {
    for (const who of Object.keys(draw) as Who[]) await draw[who](i);
    await viaChromium(withPhotos[i]!);
  }
  const orders: Who[][] = [
    ['before', 'nowSame', 'now'],
    ['now', 'before', 'nowSame'],
    ['nowSame', 'now', 'before'],
  ];
  for (let r = 0; r < ROUNDS; r++)
    for (let i = 0; i < oldJobs.length; i++)
      for (const who of orders[(r + i) % orders.length]!) {
        let t = performance.now();
        await viaChromium(withPhotos[i]!);
        chromiumMs += performance.now() - t;
        chromiumN++;
        t = performance.now();
        await draw[who](i);
        total[who] += performance.now() - t;
      }
  await peer.close();

  const n = ROUNDS * oldJobs.length;
  const ms = (x: number) => Math.round((x / n) * 100) / 100;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const out = {
    bench: 'cards-before',
    before: BEFORE,
    cards: oldJobs.length,
    rounds: ROUNDS,
    beforeMs: ms(total.before),
    nowSameCardsMs: ms(total.nowSame),
    nowMs: ms(total.now),
    chromiumMs: Math.round((chromiumMs / chromiumN) * 10) / 10,
    ratioSameCards: r3(total.nowSame / total.before),
    ratio: r3(total.now / total.before),
    goalRatio: r3(ISSUE.goalMs / ISSUE.beforeMs),
  };
  console.log(
    `og cards, each right after a Chromium card (${out.chromiumMs} ms), ${ROUNDS} rounds of ${out.cards}, one process:`,
  );
  console.log(`  before issue 16 (${BEFORE})        ${out.beforeMs} ms`);
  console.log(
    `  now, the same cards (no photos)   ${out.nowSameCardsMs} ms  → ${out.ratioSameCards}× before`,
  );
  console.log(`  now, with its photos and portrait ${out.nowMs} ms  → ${out.ratio}× before`);
  console.log(
    `the goal, ≤ ${ISSUE.goalMs} ms where before drew ${ISSUE.beforeMs} ms, is ${out.goalRatio}× before; at these ratios that machine would read ${Math.round(ISSUE.beforeMs * out.ratioSameCards * 10) / 10} / ${Math.round(ISSUE.beforeMs * out.ratio * 10) / 10} ms`,
  );
  console.log(JSON.stringify(out));
} finally {
  rmSync(work, { recursive: true, force: true });
}
