// Benchmark: rebuilds from the CLI (npm run bench rebuild). In a frozen copy
// of the sample with a fresh dist/: a full `broadsheet build` (empty out/),
// then unchanged rebuilds, then rebuilds after one article's dek changed — all
// wall time of the whole process, spawned as a user would; each figure the
// median of BENCH_REBUILD_ROUNDS (3) runs. Goals (issue 16):
// unchanged ≤ 10 % of the full build; one article changed ≤ 25 %, re-rendering
// only that article's cards and the digest (checked from the build's log).
// Ends with ONE JSON line {"bench":"rebuild", …}.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, snapshot, timed } from './_snapshot.ts';

const ROUNDS = Number(process.env.BENCH_REBUILD_ROUNDS ?? 3);
const snap = snapshot('bs-bench-rebuild-');
try {
  const bin = join(snap.dir, 'bin/broadsheet.js');
  const article = join(snap.dir, 'content/articles/2025-12-10/he-lifeng-meets-us-executives.md');
  const original = readFileSync(article, 'utf8');
  const build = () => {
    const r = timed([bin, 'build', '--store', join(snap.dir, 'data/bench.db')], snap.dir, {
      LOG_LEVEL: 'info',
    });
    if (r.runtime !== 'dist') throw new Error(`build ran through ${r.runtime}: ${r.stderr.slice(0, 500)}`);
    const logs = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; rendered?: number; kept?: number });
    const cards = logs.find((l) => l.msg === 'cards rendered' || l.msg === 'cards unchanged');
    return {
      ms: r.ms,
      digest: logs.some((l) => l.msg.startsWith('digest: cached')) ? 'cached' : 'compiled',
      rendered: cards?.rendered ?? 0,
      kept: cards?.kept ?? 0,
    };
  };

  // The full build is timed ROUNDS times too (out/ emptied before each): one
  // run varied 12.5–16.2 s on a shared 2-core machine, and the fractions below
  // divide by it. Its median, as for the rebuilds.
  const fulls: ReturnType<typeof build>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rmSync(join(snap.dir, 'out'), { recursive: true, force: true });
    fulls.push(build());
  }
  const full = { ...fulls[0]!, ms: median(fulls.map((f) => f.ms)) };
  const unchanged: ReturnType<typeof build>[] = [];
  const changed: ReturnType<typeof build>[] = [];
  for (let i = 0; i < ROUNDS; i++) unchanged.push(build());
  for (let i = 0; i < ROUNDS; i++) {
    writeFileSync(article, original.replace(/^dek: "(.*)"$/m, `dek: "$1（更新 ${i + 1}）"`));
    changed.push(build());
  }
  writeFileSync(article, original);

  const m = (xs: { ms: number }[]) => Math.round(median(xs.map((x) => x.ms)));
  const out = {
    bench: 'rebuild',
    rounds: ROUNDS,
    fullMs: Math.round(full.ms),
    fullCards: Math.min(...fulls.map((f) => f.rendered)),
    fullRunsMs: fulls.map((f) => Math.round(f.ms)),
    unchangedMs: m(unchanged),
    unchangedFraction: Number((m(unchanged) / full.ms).toFixed(3)),
    unchangedDigest: [...new Set(unchanged.map((u) => u.digest))].join('/'),
    unchangedRendered: Math.max(...unchanged.map((u) => u.rendered)),
    changedMs: m(changed),
    changedFraction: Number((m(changed) / full.ms).toFixed(3)),
    changedDigest: [...new Set(changed.map((u) => u.digest))].join('/'),
    changedRendered: Math.max(...changed.map((u) => u.rendered)),
    goals: { unchanged: 0.1, changed: 0.25 },
  };
  const pct = (f: number) => `${(f * 100).toFixed(1)} %`;
  console.log(
    `full build          ${out.fullMs} ms, median of ${out.fullRunsMs.join(' / ')} (${out.fullCards} cards drawn, digest ${full.digest})`,
  );
  console.log(
    `unchanged rebuild   ${out.unchangedMs} ms = ${pct(out.unchangedFraction)} of full (goal ≤ 10 %; digest ${out.unchangedDigest}, ${out.unchangedRendered} cards drawn)`,
  );
  console.log(
    `1 article changed   ${out.changedMs} ms = ${pct(out.changedFraction)} of full (goal ≤ 25 %; digest ${out.changedDigest}, ${out.changedRendered} cards drawn)`,
  );
  console.log(JSON.stringify(out));
} finally {
  snap.remove();
}
