// Benchmark: peak memory of a build (npx tsx bench/memory.ts).
// First the real thing: `broadsheet build` (digest + cards + contact sheets)
// from the compiled CLI in a frozen copy of the checkout (bench/_snapshot.ts),
// for the sample edition and for a generated 100-item edition (the sample's
// articles and stat sets copied under new ids), the process tree sampled as
// below. Then, with `--part cards|all`, the card stage alone, in-process under tsx, as before:
// each build runs in a fresh child process (cards.workers 'auto', the pool as a
// build uses it) while this process samples the whole process tree every 25 ms
// (VmRSS of the child and of every descendant, summed: pool workers are
// threads and show in the child's own figure; anything spawned shows too); the
// child reports its own VmHWM at the end, which catches a peak between samples.
//   1. the sample edition (content/), every kind × format;
//   2. a generated 100-item edition: the sample's articles and stat sets
//      repeated under new ids with their titles varied, so every card is drawn.
// Printed against the limits of issue 16 and the figures measured before this
// work, as ratios, then ONE JSON line {"bench":"memory", …}.
// `--only sample|items100` runs one; `--workers N` overrides the pool size.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Edition } from '../src/edition/model.ts';
import { runtimeOf } from './_dist.ts';
import { peakRssMb } from './_peak-rss.ts';
import { snapshot } from './_snapshot.ts';

const root = resolve(import.meta.dirname, '..');
const LIMIT_MB = { sample: 400, items100: 500 };
/** Issue 16's figure before this work (sample build, 234 cards, 2 workers). */
const BEFORE_MB: Record<string, number | undefined> = { sample: 806 };

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};

// ── child mode: one cold card build ──
if (process.argv[2] === '--child') {
  const which = process.argv[3] as 'sample' | 'items100';
  const out = process.argv[4]!;
  const workers = process.argv[5] === 'auto' ? undefined : Number(process.argv[5]);
  const { loadContent } = await import('../src/content/load.ts');
  const { selectEdition } = await import('../src/edition/select.ts');
  const { editionItems } = await import('../src/cards/items.ts');
  const { renderCards } = await import('../src/cards/index.ts');
  const { testContext } = await import('../tests/helpers/context.ts');
  // out/ is the child's own folder: a cold build, with no photo crops cached by an earlier run.
  const ctx = testContext({ root, paths: { out } });
  const { config, paths } = ctx;
  let edition = selectEdition(await loadContent(paths.content), config, {});
  const count = (e: Edition) =>
    editionItems(e, { kinds: config.cards.kinds, contentDir: paths.content, brandUrl: config.brand.url })
      .length;
  if (which === 'items100') edition = grow(edition, 100, count);
  const items = count(edition);
  const t0 = performance.now();
  const r = await renderCards(edition, ctx, { editionDir: out, progress: false, workers });
  const ms = performance.now() - t0;
  const hwm = peakRssMb();
  console.log(JSON.stringify({ items, cards: r.cards.length, failures: r.failures.length, ms, hwm }));
  process.exit(0);
}

/** The edition with its articles and stat sets repeated (new ids, varied titles) up to `n` card items. */
function grow(e: Edition, n: number, count: (e: Edition) => number): Edition {
  const out: Edition = { ...e, articles: [...e.articles], stats: [...e.stats] };
  for (let copy = 2; count(out) < n; copy++) {
    for (const a of e.articles) {
      if (count(out) >= n) break;
      out.articles.push({ ...a, id: `${a.id}-${copy}`, title: `${a.title}（${copy}）` });
    }
    for (const s of e.stats) {
      if (count(out) >= n) break;
      out.stats.push({ ...s, id: `${s.id}-${copy}`, title: s.title ? `${s.title}（${copy}）` : s.title });
    }
  }
  return out;
}

// ── parent: run a child, sample its process tree ──
function treeRss(pid: number): number {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(d));
      kids.set(ppid, list);
    } catch {
      // gone between readdir and read
    }
  }
  let kb = 0;
  const walk = (p: number) => {
    try {
      kb += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return;
    }
    for (const c of kids.get(p) ?? []) walk(c);
  };
  walk(pid);
  return kb / 1024;
}

/** Peak RSS of `node args…` (its whole process tree, sampled every 25 ms). */
async function sampleTree(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let sampled = 0;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, treeRss(child.pid!));
  }, 25);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearInterval(timer);
  return { code, stdout, stderr, sampled };
}

async function measure(which: 'sample' | 'items100', workers: string) {
  const out = mkdtempSync(join(tmpdir(), `bench-memory-${which}-`));
  const { code, stdout, stderr, sampled } = await sampleTree(
    ['--import', 'tsx', join(import.meta.dirname, 'memory.ts'), '--child', which, out, workers],
    root,
    childEnv,
  );
  rmSync(out, { recursive: true, force: true });
  if (code !== 0) throw new Error(`${which} build failed (exit ${code}): ${stderr.slice(-2000)}`);
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    items: number;
    cards: number;
    failures: number;
    ms: number;
    hwm: number;
  };
  return { ...r, sampledMb: sampled, peakMb: Math.max(sampled, r.hwm) };
}

// ── the real CLI: `broadsheet build` from dist/ in a frozen copy ──
/** The sample content, its articles and stat sets `copies` times over (new ids, varied titles). */
function growContent(dir: string, copies: number) {
  const day = join(dir, 'content/articles/2025-12-10');
  const articles = readdirSync(day).filter((f) => f.endsWith('.md'));
  const stats = readdirSync(join(dir, 'content/stats')).filter((f) => f.endsWith('.yaml'));
  for (let copy = 2; copy <= copies; copy++) {
    for (const f of articles) {
      const text = readFileSync(join(day, f), 'utf8')
        .replace(/^id: (.+)$/m, `id: $1-${copy}`)
        .replace(/^title: (.+)$/m, `title: $1（${copy}）`);
      writeFileSync(join(day, f.replace(/\.md$/, `-${copy}.md`)), text);
    }
    for (const f of stats) {
      const text = readFileSync(join(dir, 'content/stats', f), 'utf8')
        .replace(/^id: (.+)$/m, `id: $1-${copy}`)
        .replace(/^title: (.+)$/m, `title: $1（${copy}）`);
      writeFileSync(join(dir, 'content/stats', f.replace(/\.yaml$/, `-${copy}.yaml`)), text);
    }
  }
  // Every copied article in the edition (the sample config keeps 10).
  const config = readFileSync(join(dir, 'broadsheet.config.yaml'), 'utf8').replace(
    /maxArticles: \d+/,
    'maxArticles: 50',
  );
  writeFileSync(join(dir, 'grown.config.yaml'), config);
}

async function measureCli(snap: string, which: 'sample' | 'items100') {
  const work = mkdtempSync(join(tmpdir(), `bench-memory-cli-${which}-`));
  cpSync(join(snap, 'content'), join(work, 'content'), { recursive: true });
  cpSync(join(snap, 'broadsheet.config.yaml'), join(work, 'broadsheet.config.yaml'));
  cpSync(join(snap, 'templates'), join(work, 'templates'), { recursive: true });
  if (which === 'items100') growContent(work, 3);
  const config = which === 'items100' ? 'grown.config.yaml' : 'broadsheet.config.yaml';
  const { code, stdout, stderr, sampled } = await sampleTree(
    [join(snap, 'bin/broadsheet.js'), '--config', config, '--store', 'b.db', 'build', '--json'],
    work,
    { ...childEnv, BROADSHEET_DEBUG_RUNTIME: '1', BROADSHEET_SECRET: 'bench-memory', LOG_LEVEL: 'warn' },
  );
  rmSync(work, { recursive: true, force: true });
  if (code !== 0) throw new Error(`${which} CLI build failed (exit ${code}): ${stderr.slice(-2000)}`);
  const runtime = runtimeOf(stderr);
  const manifest = JSON.parse(stdout) as { cards: unknown[]; failures: unknown[] };
  return { cards: manifest.cards.length, failures: manifest.failures.length, runtime, peakMb: sampled };
}

const only = arg('--only');
// `--child-env K=V` (repeatable): run the builds with that environment, e.g.
// MALLOC_ARENA_MAX=2 — glibc reads its malloc tunables only when a process
// starts, so the figure is for a build started that way (a systemd unit's
// Environment=), not for a plain `broadsheet build`.
const childEnv = Object.fromEntries(
  process.argv.flatMap((a, i) =>
    a === '--child-env' ? [process.argv[i + 1]!.split(/=(.*)/s).slice(0, 2)] : [],
  ),
) as Record<string, string>;
const workers = arg('--workers') ?? 'auto';
// `--part cli|cards|all`: the CLI builds (the default: what issue 16's limits
// are about), the in-process card stage under tsx (a diagnostic, ~1 min more
// on a 2-core machine), or both.
const part = arg('--part') ?? 'cli';
const r1 = (n: number) => Math.round(n * 10) / 10;
const withEnv = Object.keys(childEnv).length
  ? ` [with ${Object.entries(childEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}]`
  : '';
const cli: Record<string, Awaited<ReturnType<typeof measureCli>>> = {};
if (part !== 'cards') {
  const snap = snapshot('bench-memory-snap-');
  try {
    for (const which of ['sample', 'items100'] as const) {
      if (only && only !== which) continue;
      const r = await measureCli(snap.dir, which);
      cli[which] = r;
      const before = BEFORE_MB[which];
      console.log(
        `broadsheet build, ${which} (runtime ${r.runtime}): ${r.cards} cards (${r.failures} failed); peak RSS ${Math.round(r.peakMb)} MB` +
          ` → ${r1((r.peakMb / LIMIT_MB[which]) * 100)}% of the ${LIMIT_MB[which]} MB limit` +
          (before ? `, ${r1(r.peakMb / before)}× the ${before} MB before` : '') +
          withEnv,
      );
    }
  } finally {
    snap.remove();
  }
}
const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
for (const which of ['sample', 'items100'] as const) {
  if (part === 'cli' || (only && only !== which)) continue; // `--part cards|all` only
  const r = await measure(which, workers);
  results[which] = r;
  console.log(
    `card stage alone (in-process, tsx), ${which}: ${r.items} items, ${r.cards} cards (${r.failures} failed) in ${r1(r.ms / 1000)} s; peak RSS ${Math.round(r.peakMb)} MB` +
      ` (tree sampled ${Math.round(r.sampledMb)}, VmHWM ${Math.round(r.hwm)}) → ${r1((r.peakMb / LIMIT_MB[which]) * 100)}% of the ${LIMIT_MB[which]} MB limit` +
      withEnv,
  );
}
const fraction = (mb: number, k: string) =>
  Math.round((mb / LIMIT_MB[k as keyof typeof LIMIT_MB]) * 1000) / 1000;
console.log(
  JSON.stringify({
    bench: 'memory',
    workers,
    ...(Object.keys(childEnv).length ? { childEnv } : {}),
    ...Object.fromEntries(
      Object.entries(cli).flatMap(([k, r]) => [
        [`${k}BuildPeakMb`, Math.round(r.peakMb)],
        [`${k}BuildCards`, r.cards],
        [`${k}BuildLimitFraction`, fraction(r.peakMb, k)],
      ]),
    ),
    ...Object.fromEntries(
      Object.entries(results).flatMap(([k, r]) => [
        [`${k}PeakMb`, Math.round(r.peakMb)],
        [`${k}Cards`, r.cards],
        [`${k}LimitFraction`, fraction(r.peakMb, k)],
      ]),
    ),
  }),
);
