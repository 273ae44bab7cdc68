// Benchmark: CLI start (npm run bench start). `broadsheet --help` and
// `broadsheet status` against `node -e 0`, each spawned N times interleaved in
// the same run (median), from a frozen copy with a fresh dist/ — and the same
// two through tsx (BROADSHEET_RUNTIME=tsx) for what the build saves. Goal
// (issue 16): both within 3× of `node -e 0`.
// `status` is timed twice: as it runs again and again (the parsed config comes
// from dist/cache/, src/config/cache.ts) and with that cache emptied before
// each spawn (the first start after a config edit or a build: zod + yaml).
// Wall time is what a user waits, but on a shared machine it swings with the
// load; the CPU time the child used (user + system, from /proc on Linux: mean
// per run) is printed too, with its own ratios to `node -e 0`.
// Ends with ONE JSON line {"bench":"start", …}.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { median, snapshot, timed } from './_snapshot.ts';

const N = Number(process.env.BENCH_START_N ?? 11);

/** CPU ms used by the waited-for children so far (cutime + cstime), or undefined off Linux. */
function childrenCpuMs(): number | undefined {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[13]) + Number(f[14])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return undefined;
  }
}
const snap = snapshot('bs-bench-start-');
try {
  const bin = join(snap.dir, 'bin/broadsheet.js');
  const store = ['--store', join(snap.dir, 'data/bench.db')];
  const cache = join(snap.dir, 'dist/cache');
  const cases: Record<
    string,
    { args: string[]; env?: NodeJS.ProcessEnv; runtime?: string; before?: () => void }
  > = {
    node: { args: ['-e', '0'] },
    help: { args: [bin, '--help'], runtime: 'dist' },
    status: { args: [bin, 'status', ...store], runtime: 'dist' },
    statusMiss: {
      args: [bin, 'status', ...store],
      runtime: 'dist',
      before: () => rmSync(cache, { recursive: true, force: true }),
    },
    helpTsx: { args: [bin, '--help'], env: { BROADSHEET_RUNTIME: 'tsx' }, runtime: 'tsx' },
    statusTsx: { args: [bin, 'status', ...store], env: { BROADSHEET_RUNTIME: 'tsx' }, runtime: 'tsx' },
  };
  const ms: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const cpu: Record<string, number> = Object.fromEntries(Object.keys(cases).map((k) => [k, 0]));
  // One warm-up round (disk cache, tsx's transform cache), then N measured.
  for (let i = 0; i <= N; i++)
    for (const [name, c] of Object.entries(cases)) {
      c.before?.();
      const cpu0 = childrenCpuMs();
      const r = timed(c.args, snap.dir, c.env);
      const cpu1 = childrenCpuMs();
      if (c.runtime && r.runtime !== c.runtime)
        throw new Error(`${name} ran through ${r.runtime}, expected ${c.runtime}: ${r.stderr}`);
      if (i > 0) {
        ms[name]!.push(r.ms);
        cpu[name]! += (cpu1 ?? Number.NaN) - (cpu0 ?? Number.NaN);
      }
    }
  type Case = 'node' | 'help' | 'status' | 'statusMiss' | 'helpTsx' | 'statusTsx';
  const m = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(median(v))])) as Record<
    Case,
    number
  >;
  const ratio = (k: Case) => Number((m[k] / m.node).toFixed(2));
  const cpuMs = (k: Case) => (Number.isNaN(cpu[k]!) ? null : Math.round(cpu[k]! / N));
  const cpuRatio = (k: Case) => (Number.isNaN(cpu[k]!) ? null : Number((cpu[k]! / cpu.node!).toFixed(2)));
  const out = {
    bench: 'start',
    runs: N,
    buildMs: Math.round(snap.buildMs),
    nodeMs: m.node,
    helpMs: m.help,
    statusMs: m.status,
    statusMissMs: m.statusMiss,
    helpTsxMs: m.helpTsx,
    statusTsxMs: m.statusTsx,
    helpRatio: ratio('help'),
    statusRatio: ratio('status'),
    statusMissRatio: ratio('statusMiss'),
    helpTsxRatio: ratio('helpTsx'),
    statusTsxRatio: ratio('statusTsx'),
    cpu: {
      nodeMs: cpuMs('node'),
      helpMs: cpuMs('help'),
      statusMs: cpuMs('status'),
      statusMissMs: cpuMs('statusMiss'),
      helpRatio: cpuRatio('help'),
      statusRatio: cpuRatio('status'),
      statusMissRatio: cpuRatio('statusMiss'),
    },
    goal: 3,
  };
  console.log(`dist/ built in ${out.buildMs} ms (scripts/build.mjs)`);
  console.log(`node -e 0           ${out.nodeMs} ms`);
  console.log(
    `--help   (dist)     ${out.helpMs} ms  ${out.helpRatio}× node   (tsx: ${out.helpTsxMs} ms, ${out.helpTsxRatio}×)`,
  );
  console.log(
    `status   (dist)     ${out.statusMs} ms  ${out.statusRatio}× node   (tsx: ${out.statusTsxMs} ms, ${out.statusTsxRatio}×)`,
  );
  console.log(`status   (dist, config cache emptied) ${out.statusMissMs} ms  ${out.statusMissRatio}× node`);
  const c = out.cpu;
  if (c.nodeMs !== null)
    console.log(
      `CPU (mean): node ${c.nodeMs} ms, --help ${c.helpMs} ms ${c.helpRatio}×, status ${c.statusMs} ms ${c.statusRatio}×, status cache emptied ${c.statusMissMs} ms ${c.statusMissRatio}×`,
    );
  const met = (r: number) => (r <= out.goal ? 'met' : 'NOT met');
  console.log(
    `goal: within ${out.goal}× node (wall) → --help ${met(out.helpRatio)}, status ${met(out.statusRatio)}, status after a config edit ${met(out.statusMissRatio)}`,
  );
  console.log(JSON.stringify(out));
} finally {
  snap.remove();
}
