// `npm run bench [name…]`: runs bench/<name>.ts (default: all but the checks
// below) one after another, each in its own process so one bench's warm caches
// never flatter the next.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();
// Acceptance checks, not benchmarks (no peer, no ratio): run only when named,
// e.g. `npm run bench scale-out-check` (issue 17's; ~2 min on a 2-core machine),
// `npm run bench send-kill-check` (issue 16's 100,000-reader send with SIGKILLs).
// `npm run bench cards-before`: the og card against the code before issue 16, one process (~1.5 min).
const CHECKS = new Set(['scale-out-check', 'send-kill-check', 'cards-before']);
const pick = process.argv.slice(2);
const names = pick.length ? pick : all.filter((n) => !CHECKS.has(n));
let failed = 0;
const took: string[] = [];
const t0 = performance.now();
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`no bench named ${name} (have: ${all.join(', ')})`);
    process.exit(2);
  }
  console.log(`\n# bench/${name}.ts`);
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, `${name}.ts`)], { stdio: 'inherit' });
  took.push(`${name} ${Math.round((performance.now() - t) / 1000)} s`);
  if (r.status !== 0) failed++;
}
console.log(`\n# ${Math.round((performance.now() - t0) / 1000)} s in all: ${took.join(', ')}`);
process.exit(failed ? 1 : 0);
