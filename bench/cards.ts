// Benchmark: social cards (npx tsx bench/cards.ts).
// 1. Warm per-card time, ours (satori → cards.renderer: glyph cache or resvg → zlib PNG, src/cards/png.ts) against headless
//    Chromium rendering the same card as HTML/CSS with the same font (one page
//    reused), alternating card by card in the same run; prints the ratio (skipped,
//    with a message, when Chromium is not installed).
//    Then the PNG encoders measured on the same pixels (time and bytes against
//    sharp level 2, the encoder before src/cards/png.ts).
// 2. Throughput (cards/s) through the piscina pool with 1 and 2 workers.
// 3. A full cold build of the sample edition in a fresh process (time, peak RSS),
//    then an unchanged rebuild (must be < 1/10 of the full build).
// Ends with ONE JSON line {"bench":"cards", …}.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { Resvg } from '@resvg/resvg-js';
import sharp from 'sharp';
import { cardPngLevel, encodePng } from '../src/cards/png.ts';
import { createCardPool } from '../src/cards/pool.ts';
import { rasterize } from '../src/cards/raster.ts';
import { type CardJob, cardPixels, cardSvg, cardTree, renderCard } from '../src/cards/render.ts';
import { loadContent } from '../src/content/load.ts';
import { selectEdition } from '../src/edition/select.ts';
import { testContext } from '../tests/helpers/context.ts';
import { sampleCards } from '../tests/helpers/sample-cards.ts';
import { chromiumPeer } from './_chromium-peer.ts';
import { peakRssMb } from './_peak-rss.ts';

const root = resolve(import.meta.dirname, '..');
// Its own out/ (the --build child's is the folder it is given): photo crops
// are cached under out/.cache/, and a bench must not warm the repository's.
const benchOut =
  process.argv[2] === '--build' ? process.argv[3]! : mkdtempSync(join(tmpdir(), 'bench-cards-out-'));
const benchCtx = testContext({ root, paths: { out: benchOut } });
const { config, paths } = benchCtx;

async function sampleEdition() {
  return selectEdition(await loadContent(paths.content), config, {});
}

// ── child mode: one full build in a fresh process, then an unchanged rebuild ──
if (process.argv[2] === '--build') {
  const out = process.argv[3]!;
  const { renderCards } = await import('../src/cards/index.ts');
  const t0 = performance.now();
  const edition = await sampleEdition();
  const ctx = benchCtx;
  const first = await renderCards(edition, ctx, { editionDir: out, progress: false });
  const full = performance.now() - t0;
  const rss = peakRssMb();
  const t1 = performance.now();
  const again = await renderCards(edition, ctx, { editionDir: out, previous: first.cards, progress: false });
  const rebuild = performance.now() - t1;
  console.log(
    JSON.stringify({
      cards: first.cards.length,
      failures: first.failures.length,
      full,
      rebuild,
      rebuildCards: again.cards.length,
      rss,
    }),
  );
  process.exit(0);
}

const { jobsFor } = await sampleCards(benchCtx);
const ms = (n: number) => Math.round(n * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// ── 1. per card, alternating with Chromium ──
const ogJobs = await jobsFor(['og']);
const peer = await chromiumPeer();
if ('skipped' in peer) console.log(`chromium peer skipped: ${peer.skipped}`);
const ours: number[] = [];
const theirs: number[] = [];
const ROUNDS = 3;
if (!('skipped' in peer)) {
  // Both sides start from the same card job: the layout + typesetting (cardTree)
  // runs inside both timings; Chromium then gets it as HTML/CSS.
  const viaChromium = peer.draw;
  // Warm both: fonts parsed, layouts loaded, Chromium's font cache filled.
  for (const j of ogJobs) {
    await renderCard(j);
    await viaChromium(j);
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const j of ogJobs) {
      let t = performance.now();
      await renderCard(j);
      ours.push(performance.now() - t);
      t = performance.now();
      await viaChromium(j);
      theirs.push(performance.now() - t);
    }
  }
  await peer.close();
} else {
  for (const j of ogJobs) await renderCard(j);
  for (let r = 0; r < ROUNDS; r++)
    for (const j of ogJobs) {
      const t = performance.now();
      await renderCard(j);
      ours.push(performance.now() - t);
    }
}
const oursMs = ours.reduce((a, b) => a + b, 0) / ours.length;
const chromeMs = theirs.length ? theirs.reduce((a, b) => a + b, 0) / theirs.length : Number.NaN;
const ratio = chromeMs / oursMs;
console.log(
  `per card (og, ${ogJobs.length} cards × ${ROUNDS}${theirs.length ? ', alternating' : ''}): ours ${ms(oursMs)} ms (median ${ms(median(ours))})` +
    (theirs.length
      ? `, chromium ${ms(chromeMs)} ms (median ${ms(median(theirs))}) → ${ms(ratio)}× faster`
      : ', no chromium peer'),
);

// Ours again in a block of its own (same cards, same rounds, no Chromium in
// between): on 2 cores Chromium's own threads (compositor, raster, GPU
// process) are still busy right after each screenshot and take CPU from the
// next card of ours, so the alternating mean also measures Chromium. Both are
// printed; CPU time per card (this thread, plus resvg/zlib work it waits for)
// is the steadier figure on a busy machine. The slowest cards and the time in
// V8's GC show where a mean above the median comes from.
const alone: number[] = [];
const aloneCpu: number[] = [];
const perCard = new Map<string, number[]>();
let gcMs = 0;
const gcObs = new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcMs += e.duration;
});
gcObs.observe({ entryTypes: ['gc'] });
for (let r = 0; r < ROUNDS; r++)
  for (const j of ogJobs) {
    const c0 = process.cpuUsage();
    const t = performance.now();
    await renderCard(j);
    const d = performance.now() - t;
    const c = process.cpuUsage(c0);
    alone.push(d);
    aloneCpu.push((c.user + c.system) / 1000);
    perCard.set(j.id, [...(perCard.get(j.id) ?? []), d]);
  }
// GC entries reach the observer on a later turn of the event loop.
await new Promise((r) => setTimeout(r, 20));
gcObs.disconnect();
const slowest = [...perCard]
  .map(([id, xs]) => ({ id, ms: ms(median(xs)) }))
  .sort((a, b) => b.ms - a.ms)
  .slice(0, 5);
const aloneMs = alone.reduce((a, b) => a + b, 0) / alone.length;
const aloneCpuMs = aloneCpu.reduce((a, b) => a + b, 0) / aloneCpu.length;
console.log(
  `ours alone (og, ${ogJobs.length} cards × ${ROUNDS}, not alternating): ${ms(aloneMs)} ms (median ${ms(median(alone))}), CPU ${ms(aloneCpuMs)} ms/card, GC ${ms(gcMs / alone.length)} ms/card; slowest (median): ${slowest.map((x) => `${x.id} ${x.ms}`).join(', ')}`,
);

// PNG encoders on the same pixels (og cards), option by option in turn for each
// card: wall and CPU time (CPU time is steadier on a busy machine) and bytes,
// against sharp at level 2 without filtering (the encoder before png.ts).
const pixelsOf = await Promise.all(
  ogJobs.map(async (j) => {
    const p = await cardPixels(j);
    return { ...p, pixels: Uint8Array.from(p.pixels) };
  }),
);
const encoders: {
  name: string;
  enc: (p: Uint8Array, w: number, h: number, bitmap?: boolean) => Buffer | Promise<Buffer>;
}[] = [
  {
    name: 'sharp L2 no filter (before)',
    enc: (p, w, h) =>
      sharp(p, { raw: { width: w, height: h, channels: 4 } })
        .png({ compressionLevel: 2, adaptiveFiltering: false })
        .toBuffer(),
  },
  {
    name: 'sharp L3 adaptive filter',
    enc: (p, w, h) =>
      sharp(p, { raw: { width: w, height: h, channels: 4 } })
        .png({ compressionLevel: 3, adaptiveFiltering: true })
        .toBuffer(),
  },
  // As renderCard writes them: indexed when the card has ≤ 256 colours (every
  // text-only card), RGB when it has a photo or portrait (raster.ts tells).
  ...[1, 3].map((level) => ({
    name: `zlib L${level} indexed/RGB${level === config.cards.pngCompression ? ' (configured)' : ''}`,
    enc: (p: Uint8Array, w: number, h: number, bitmap?: boolean) =>
      encodePng(p, w, h, level, { truecolour: bitmap }),
  })),
  // The indexed rows with zlib's default strategy (before Z_RLE, png.ts).
  {
    name: `zlib L${config.cards.pngCompression} indexed/RGB, default strategy`,
    enc: (p: Uint8Array, w: number, h: number, bitmap?: boolean) =>
      encodePng(p, w, h, config.cards.pngCompression, { truecolour: bitmap, defaultStrategy: true }),
  },
  ...[1, 2, 3, 4, 6].map((level) => ({
    name: `zlib L${level} RGB (never indexed)`,
    enc: (p: Uint8Array, w: number, h: number) => encodePng(p, w, h, level, { truecolour: true }),
  })),
  ...[3, 4].map((level) => ({
    name: `zlib L${level} RGBA (alpha kept)`,
    enc: (p: Uint8Array, w: number, h: number) => encodePng(p, w, h, level, { keepAlpha: true }),
  })),
];
const encStats = encoders.map(() => ({ wall: 0, cpu: 0, bytes: 0 }));
for (let r = 0; r < 2; r++)
  for (const img of pixelsOf)
    for (const [i, e] of encoders.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const png = await e.enc(img.pixels, img.width, img.height, img.bitmap);
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (r === 0) continue; // warm-up round
      encStats[i]!.wall += wall;
      encStats[i]!.cpu += (c.user + c.system) / 1000;
      encStats[i]!.bytes += png.length;
    }
const encBase = encStats[0]!;
const encoderTable = encoders.map((e, i) => {
  const st = encStats[i]!;
  return {
    encoder: e.name,
    ms: ms(st.wall / pixelsOf.length),
    cpuMs: ms(st.cpu / pixelsOf.length),
    kb: ms(st.bytes / pixelsOf.length / 1024),
    timeVsBefore: ms(st.cpu / encBase.cpu),
    bytesVsBefore: Math.round((st.bytes / encBase.bytes) * 1000) / 1000,
  };
});
console.log('PNG encoders (og cards, same pixels; ratios of CPU time and bytes against sharp L2):');
for (const row of encoderTable)
  console.log(
    `  ${row.encoder.padEnd(30)} ${String(row.ms).padStart(6)} ms wall ${String(row.cpuMs).padStart(6)} ms CPU ${String(row.kb).padStart(7)} KB  time ×${row.timeVsBefore}  bytes ×${row.bytesVsBefore}`,
  );

// Bytes and encode CPU per format (every card, not one per kind), as
// renderCard writes each card (indexed at the configured level when it has
// ≤ 256 colours; else RGB at cardPngLevel: the configured one, WeChat and
// story at 4) against sharp L2, alternating card by card; sharp's cache off,
// so it encodes every time.
sharp.cache(false);
const pngByFormat: Record<string, { level: number; bytes: number; cpu: number }> = {};
for (const format of config.cards.formats) {
  const level = cardPngLevel(format, config.cards.pngCompression);
  const st = { ours: 0, before: 0, oursCpu: 0, beforeCpu: 0 };
  for (const j of await jobsFor([format])) {
    const p = await cardPixels(j);
    const px = Uint8Array.from(p.pixels);
    // Round 0 warms both (and takes the previous section's GC); the order
    // alternates so neither encoder always runs first.
    for (let r = 0; r < 3; r++) {
      const oursNow = () => {
        const c0 = process.cpuUsage();
        const n = encodePng(px, p.width, p.height, level, {
          truecolour: p.bitmap,
          indexedLevel: config.cards.pngCompression,
        }).length;
        const c = process.cpuUsage(c0);
        return { n, cpu: c.user + c.system };
      };
      const beforeNow = async () => {
        const c0 = process.cpuUsage();
        const n = (
          await sharp(px, { raw: { width: p.width, height: p.height, channels: 4 } })
            .png({ compressionLevel: 2, adaptiveFiltering: false })
            .toBuffer()
        ).length;
        const c = process.cpuUsage(c0);
        return { n, cpu: c.user + c.system };
      };
      const [a, b] = r % 2 ? [oursNow(), await beforeNow()] : [await beforeNow(), oursNow()].reverse();
      if (r === 0) continue;
      st.oursCpu += a!.cpu;
      st.beforeCpu += b!.cpu;
      if (r === 1) {
        st.ours += a!.n;
        st.before += b!.n;
      }
    }
  }
  pngByFormat[format] = {
    level,
    bytes: Math.round((st.ours / st.before) * 1000) / 1000,
    cpu: ms(st.oursCpu / st.beforeCpu),
  };
}
sharp.cache(true);
const bytesByFormat = Object.fromEntries(Object.entries(pngByFormat).map(([f, v]) => [f, v.bytes]));
console.log(
  `PNG by format against sharp L2 (bytes, encode CPU): ${Object.entries(pngByFormat)
    .map(([f, v]) => `${f} (RGB at L${v.level}) bytes ×${v.bytes} CPU ×${v.cpu}`)
    .join(', ')}`,
);

// Where our time goes (same cards, not alternating): layout+typesetting, satori,
// raster, PNG encode — for each renderer (the configured one is timed above).
type Stages = { layout: number; satori: number; raster: number; encode: number };
async function stagesOf(renderer: NonNullable<CardJob['renderer']>): Promise<Stages> {
  const st: Stages = { layout: 0, satori: 0, raster: 0, encode: 0 };
  const { width, height } = { width: 1200, height: 630 };
  for (const j of ogJobs) {
    const t0 = performance.now();
    await cardTree(j);
    const t1 = performance.now();
    const svg = await cardSvg(j, { embedFont: renderer === 'resvg' });
    const t2 = performance.now();
    const drawn =
      renderer === 'resvg'
        ? { pixels: new Resvg(svg, { font: { loadSystemFonts: false } }).render().pixels, bitmap: undefined }
        : (await rasterize(svg, width, height))!;
    const t3 = performance.now();
    encodePng(drawn.pixels, width, height, config.cards.pngCompression, { truecolour: drawn.bitmap });
    const t4 = performance.now();
    st.layout += t1 - t0;
    st.satori += t2 - t1 - (t1 - t0);
    st.raster += t3 - t2;
    st.encode += t4 - t3;
  }
  for (const k of Object.keys(st) as (keyof Stages)[]) st[k] = ms(st[k] / ogJobs.length);
  return st;
}
const stagesBy = { glyphcache: await stagesOf('glyphcache'), resvg: await stagesOf('resvg') };
const stages = stagesBy[config.cards.renderer];
for (const [r, st] of Object.entries(stagesBy))
  console.log(
    `stages per og card, ${r}${r === config.cards.renderer ? ' (configured)' : ''}: ${Object.entries(st)
      .map(([k, v]) => `${k} ${v} ms`)
      .join(', ')}`,
  );
// Whole renderCard, one renderer against the other, alternating card by card.
const byRenderer = { glyphcache: [] as number[], resvg: [] as number[] };
for (let r = 0; r < ROUNDS; r++)
  for (const j of ogJobs)
    for (const renderer of ['glyphcache', 'resvg'] as const) {
      const t = performance.now();
      await renderCard({ ...j, renderer });
      byRenderer[renderer].push(performance.now() - t);
    }
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rendererMs = { glyphcache: ms(mean(byRenderer.glyphcache)), resvg: ms(mean(byRenderer.resvg)) };
console.log(
  `renderers (og, alternating): glyphcache ${rendererMs.glyphcache} ms, resvg ${rendererMs.resvg} ms → ${ms(rendererMs.resvg / rendererMs.glyphcache)}×`,
);

// ── 2. throughput through the pool ──
// In a build's order: format by format (src/cards/index.ts), so consecutive
// cards of one size reuse their buffers and glyph sizes.
const allJobs: CardJob[] = [];
for (const format of config.cards.formats) allJobs.push(...(await jobsFor([format])));
const throughput: Record<string, number> = {};
// The glyph store (src/cards/glyph-store.ts) a build leaves in out/.cache/glyphs:
// the cold 2-worker pass is a first build (an empty store, written as its pool
// closes, after the timing); the last pass is the build after it (a fresh pool
// reading that store).
const glyphStore = mkdtempSync(join(tmpdir(), 'bench-glyphs-'));
async function poolPass(workers: number, glyphs?: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cards-'));
  const pool = createCardPool(workers);
  try {
    // Warm every worker (tsx, fonts, every kind's layout) before timing: one
    // card of each kind per task slot (the first cards alone were all one
    // item's, so the other layouts were transpiled during the timed run, in
    // each worker). Glyph caches stay cold, as in a build (a store given,
    // from a build before, is read as a build reads it).
    const warm = config.cards.kinds.flatMap((k) => allJobs.find((j) => j.kind === k) ?? []);
    for (let round = 0; round < 2; round++)
      await Promise.all(
        Array.from({ length: workers * 2 }, (_, i) =>
          Promise.all(
            warm.map((job, k) => pool.run({ job, file: join(dir, `warm-${round}-${i}-${k}.png`), glyphs })),
          ),
        ),
      );
    const t = performance.now();
    await Promise.all(allJobs.map((job, i) => pool.run({ job, file: join(dir, `${i}.png`), glyphs })));
    return (performance.now() - t) / 1000;
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
{
  const s = await poolPass(1);
  throughput.w1 = allJobs.length / s;
  console.log(
    `pool 1 worker: ${allJobs.length} cards (all formats) in ${ms(s)} s → ${ms(allJobs.length / s)} cards/s`,
  );
}
// The 2-worker rate from cold, the goal's figure: the median of COLD_PASSES
// passes, each a fresh pool with an empty glyph store. One pass is ~3 s, and
// on this shared 2-core VM single passes of the same code read 55–111 cards/s
// within an hour (stops 34–35); the median of three is what the figure is, and each pass is
// printed. The first pass's store is the one the last pass reads.
const COLD_PASSES = 3;
const coldPasses: number[] = [];
for (let r = 0; r < COLD_PASSES; r++) {
  const store = r === 0 ? glyphStore : mkdtempSync(join(tmpdir(), 'bench-glyphs-'));
  coldPasses.push(allJobs.length / (await poolPass(2, store)));
  if (r > 0) rmSync(store, { recursive: true, force: true });
}
throughput.w2 = median(coldPasses);
console.log(
  `pool 2 workers from cold: ${allJobs.length} cards (all formats), ${COLD_PASSES} passes ${coldPasses.map(ms).join(' / ')} → median ${ms(throughput.w2)} cards/s`,
);
{
  const s = await poolPass(2, glyphStore);
  throughput.w2Store = allJobs.length / s;
  console.log(
    `pool 2 worker(s), glyph store from the build before: ${allJobs.length} cards in ${ms(s)} s → ${ms(allJobs.length / s)} cards/s`,
  );
}
rmSync(glyphStore, { recursive: true, force: true });

// ── 3. cold build in a fresh process + unchanged rebuild ──
const out = mkdtempSync(join(tmpdir(), 'bench-build-'));
const t = performance.now();
const child = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(import.meta.dirname, 'cards.ts'), '--build', out],
  {
    cwd: root,
    encoding: 'utf8',
  },
);
const wall = performance.now() - t;
if (child.status !== 0) throw new Error(`cold build failed: ${child.stderr}`);
const build = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
  cards: number;
  failures: number;
  full: number;
  rebuild: number;
  rss: number;
};
rmSync(out, { recursive: true, force: true });
console.log(
  `cold build (fresh process): ${build.cards} cards in ${ms(build.full / 1000)} s (process wall ${ms(wall / 1000)} s), peak RSS ${Math.round(build.rss)} MB; unchanged rebuild ${ms(build.rebuild)} ms (${ms((build.rebuild / build.full) * 100)}% of full)`,
);

const cpu = (() => {
  try {
    return execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
})();
console.log(
  JSON.stringify({
    bench: 'cards',
    ratio: Number.isFinite(ratio) ? ms(ratio) : null,
    oursMsPerCard: ms(oursMs),
    chromiumMsPerCard: Number.isFinite(chromeMs) ? ms(chromeMs) : null,
    oursMedianMs: ms(median(ours)),
    oursAloneMsPerCard: ms(aloneMs),
    oursAloneMedianMs: ms(median(alone)),
    oursAloneCpuMsPerCard: ms(aloneCpuMs),
    chromiumMedianMs: theirs.length ? ms(median(theirs)) : null,
    pngEncoders: encoderTable,
    pngBytesByFormat: bytesByFormat,
    pngByFormat,
    renderer: config.cards.renderer,
    stagesMs: stages,
    rendererMs,
    cardsPerSec1: ms(throughput.w1!),
    cardsPerSec2: ms(throughput.w2!),
    cardsPerSec2Passes: coldPasses.map(ms),
    cardsPerSec2GlyphStore: ms(throughput.w2Store!),
    coldBuildMs: Math.round(build.full),
    coldBuildCards: build.cards,
    peakRssMb: Math.round(build.rss),
    unchangedRebuildMs: ms(build.rebuild),
    rebuildFraction: Math.round((build.rebuild / build.full) * 10_000) / 10_000,
    cpus: Number(cpu),
  }),
);
rmSync(benchOut, { recursive: true, force: true });
