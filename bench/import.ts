// bench/import: `broadsheet subscribers import` of a generated CSV (default
// 100,000 rows) through the real CLI, against two peers in the same run:
//   floor  the same rows inserted by a bare better-sqlite3 loop (one prepared
//          INSERT, one transaction): what SQLite alone costs, no validation,
//          consent records or suppression checks;
//   start  `node -e 0`: what any process costs.
// Peak RSS is the CLI process's own VmHWM (bench/_peak-rss.ts: getrusage's
// maxRSS would include this bench's own RSS), read at its exit by a preloaded module. Goal (issue 16): ≤ 10 s and ≤ 300 MB for 100,000 rows.
//
// Then the same on PostgreSQL (issue 17), in a fresh database on the server at
// BROADSHEET_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres),
// dropped after; its floor is the same rows in one bare multi-row INSERT …
// SELECT FROM unnest per 5,000 rows, in one transaction. Skipped with a
// message when no server answers (--no-pg skips it on purpose).
//
//   npx tsx bench/import.ts [--rows N] [--no-pg]
// Ends with one JSON line {"bench":"import", …}.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ensureDist, runtimeOf } from './_dist.ts';
import { PEAK_RSS_HOOK } from './_peak-rss.ts';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '100000' }, 'no-pg': { type: 'boolean', default: false } },
});
const N = Number(values.rows);
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'bs-bench-import-'));

// Real-world-shaped rows: mixed-case addresses on many domains, CJK and Latin
// names, a quoted name with a comma, both locales, several topics.
const names = ['陳大文', '黃嘉明', 'María José', '李小龍', 'O’Brien, Seán', '王芳', 'Nguyễn Văn An'];
let csv = 'email,name,locale,topics\n';
for (let i = 0; i < N; i++) {
  const name = names[i % names.length]!;
  csv += `Reader.${i}@Example${i % 311}.com,${name.includes(',') ? `"${name}"` : name},${i % 3 ? 'zh-Hant-HK' : 'zh-Hans'},人工智能;中國經濟${i % 5 ? '' : ';要聞'}\n`;
}
const file = join(dir, 'readers.csv');
writeFileSync(file, csv);

const rssHook = join(dir, 'rss.mjs');
writeFileSync(rssHook, PEAK_RSS_HOOK);

function timed(
  args: string[],
  cwd = dir,
  env: NodeJS.ProcessEnv = {},
): { ms: number; rssMb: number; out: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', BROADSHEET_DEBUG_RUNTIME: '1', ...env },
  });
  const ms = performance.now() - t;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  if (args.some((a) => a.endsWith('broadsheet.js')) && runtimeOf(r.stderr) !== 'dist')
    throw new Error(`the CLI ran through ${runtimeOf(r.stderr)}, not dist/: ${r.stderr.split('\n')[0]}`);
  const mb = Number(/peakrss ([\d.]+)/.exec(r.stderr)?.[1] ?? 0);
  return { ms, rssMb: mb, out: r.stdout.trim() };
}

ensureDist();

// Peer: node -e 0 (median of 5).
const starts = Array.from({ length: 5 }, () => timed(['-e', '0']).ms).sort((a, b) => a - b);
const startMs = starts[2]!;

// Peer: the bare SQLite floor, in this process.
const floorDb = new Database(join(dir, 'floor.db'));
floorDb.pragma('journal_mode = WAL');
floorDb.exec(
  'CREATE TABLE s (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT, locale TEXT, topics TEXT)',
);
const t0 = performance.now();
const ins = floorDb.prepare('INSERT INTO s (email, name, locale, topics) VALUES (?, ?, ?, ?)');
floorDb.transaction(() => {
  for (const line of csv.split('\n').slice(1)) {
    if (!line) continue;
    const [email, name, locale, topics] = line.split(',');
    ins.run(email!.toLowerCase(), name, locale, JSON.stringify(topics?.split(';') ?? []));
  }
})();
const floorMs = performance.now() - t0;
floorDb.close();

// Ours: the real CLI, twice (a fresh store, then the same file again: every row unchanged).
const store = join(dir, 'data', 'b.db');
const cli = (at = store, env: NodeJS.ProcessEnv = {}) =>
  timed(
    ['--import', rssHook, join(root, 'bin', 'broadsheet.js'), '--store', at, 'subscribers', 'import', file],
    dir,
    env,
  );
const first = cli();
const again = cli();

// PostgreSQL: a fresh database, the floor in this process, then the real CLI twice.
const rows = csv
  .split('\n')
  .slice(1)
  .filter(Boolean)
  .map((line) => {
    const [email, name, locale, topics] = line.split(',');
    return [email!.toLowerCase(), name!, locale!, JSON.stringify(topics?.split(';') ?? [])];
  });
async function pgRun() {
  if (values['no-pg']) return undefined;
  const adminUrl = process.env.BROADSHEET_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    console.log(`PostgreSQL                SKIPPED: no server at ${adminUrl} (${(err as Error).message})`);
    return undefined;
  }
  const name = `bs_bench_import_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  try {
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    await c.query(
      'CREATE TABLE s (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, email TEXT UNIQUE, name TEXT, locale TEXT, topics TEXT)',
    );
    const t = performance.now();
    await c.query('BEGIN');
    for (let i = 0; i < rows.length; i += 5000) {
      const part = rows.slice(i, i + 5000);
      await c.query(
        'INSERT INTO s (email, name, locale, topics) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])',
        [0, 1, 2, 3].map((k) => part.map((r) => r[k])),
      );
    }
    await c.query('COMMIT');
    const floor = performance.now() - t;
    await c.end();
    const env = { BROADSHEET_SECRET: 'bench-secret-0123456789abcdef' };
    return { floorMs: floor, first: cli(u.toString(), env), again: cli(u.toString(), env) };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
const onPg = await pgRun();

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`rows                     ${N.toLocaleString('en')}`);
console.log(`node -e 0                ${fmt(startMs)}`);
console.log(`bare SQLite inserts      ${fmt(floorMs)}`);
console.log(
  `import (new store)       ${fmt(first.ms)}  peak RSS ${first.rssMb.toFixed(0)} MB   ${first.out.split(':')[1]?.split(',')[0]?.trim()}`,
);
console.log(`import (again)           ${fmt(again.ms)}  peak RSS ${again.rssMb.toFixed(0)} MB`);
console.log(`import ÷ (start + floor) ${(first.ms / (startMs + floorMs)).toFixed(1)}×`);
console.log(
  `against the goal         time ${(first.ms / 10_000).toFixed(2)} of 10 s, memory ${(first.rssMb / 300).toFixed(2)} of 300 MB`,
);
if (onPg) {
  console.log(`PostgreSQL: bare inserts  ${fmt(onPg.floorMs)}`);
  console.log(
    `PostgreSQL: import (new)  ${fmt(onPg.first.ms)}  peak RSS ${onPg.first.rssMb.toFixed(0)} MB   ${onPg.first.out.split(':')[1]?.split(',')[0]?.trim()}`,
  );
  console.log(`PostgreSQL: import again  ${fmt(onPg.again.ms)}  peak RSS ${onPg.again.rssMb.toFixed(0)} MB`);
  console.log(
    `PostgreSQL ÷ SQLite       ${(onPg.first.ms / first.ms).toFixed(2)}× (new), ${(onPg.again.ms / again.ms).toFixed(2)}× (again)`,
  );
}
console.log(
  JSON.stringify({
    bench: 'import',
    rows: N,
    startMs: Math.round(startMs),
    floorMs: Math.round(floorMs),
    importMs: Math.round(first.ms),
    againMs: Math.round(again.ms),
    peakRssMb: Math.round(first.rssMb),
    againPeakRssMb: Math.round(again.rssMb),
    ratioToFloor: +(first.ms / (startMs + floorMs)).toFixed(2),
    goalTimeFraction: +(first.ms / 10_000).toFixed(2),
    goalMemoryFraction: +(first.rssMb / 300).toFixed(2),
    ...(onPg && {
      pg: {
        floorMs: Math.round(onPg.floorMs),
        importMs: Math.round(onPg.first.ms),
        againMs: Math.round(onPg.again.ms),
        peakRssMb: Math.round(onPg.first.rssMb),
        againPeakRssMb: Math.round(onPg.again.rssMb),
      },
    }),
  }),
);
