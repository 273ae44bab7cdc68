import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, workspaceArgs } from '../helpers/cli.ts';
import { DIRECT_LINKS_FEW_CARDS_YAML as BASE } from '../helpers/few-cards.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';
import { seedOut } from '../helpers/prebuilt.ts';

// The fanned-out send on PostgreSQL (issue 17) keeps what the SQLite send does:
// - readers' topic variants (issue 14): the payload written at fan-out carries
//   every variant; a topic reader gets theirs (editions.daily.topics: filter);
// - `send --limit N`: only the first N pending readers (by id) go, the rest
//   stay queued for the next send;
// - a progress line from the ledger, and a `runs` row per send, which status reads.

const pgOk = await needsPostgres();
const EDITION = 'daily-2025-12-10';
const HE = 'news.example.com/2025/12/10/he-lifeng-meets-us-executives'; // section 要聞
const GOV = 'news.example.com/2025/12/10/data-governance-model'; // section 科技
const CONFIG = `${BASE}editions:\n  daily:\n    topics: filter\nworker:\n  batchSize: 2\n  pollSeconds: 0.5\n`;

describe.skipIf(!pgOk)('send on PostgreSQL: topics, --limit, progress, runs', () => {
  let dir: string;
  let db: PgTestDb;
  const run = (args: string[]) =>
    cli([...args, ...workspaceArgs(dir, db.url)], {
      env: { BROADSHEET_SECRET: 'fanout-topics-secret-0123456789', LOG_LEVEL: 'info' },
    });
  const file = (who: string) => join(dir, 'out', EDITION, 'outbox', `${who}@example.com.eml`);
  const html = async (who: string) => String((await simpleParser(readFileSync(file(who)))).html);

  beforeAll(async () => {
    db = await freshPgDatabase('bs_fanout_topics');
    dir = mkdtempSync(join(tmpdir(), 'bs-fanout-topics-'));
    writeFileSync(join(dir, 'broadsheet.config.yaml'), CONFIG);
    writeFileSync(
      join(dir, 'r.csv'),
      'email,name,locale,topics\na@example.com,甲,,要聞\nb@example.com,乙,,科技\nc@example.com,丙,,\nd@example.com,丁,,要聞\n',
    );
    seedOut(join(dir, 'out'), CONFIG);
    const b = run(['build']);
    expect(b.code, b.stderr).toBe(0);
    const i = run(['subscribers', 'import', join(dir, 'r.csv')]);
    expect(i.code, i.stderr).toBe(0);
  }, 240_000);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('--limit 3 sends the first three readers, each their topic variant; progress and a runs row', async () => {
    const dry = run(['send', '--transport', 'outbox', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, rendered: 4, topicVariants: 2 });

    const r = run(['send', '--transport', 'outbox', '--limit', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ total: 3, sent: 3, topicVariants: 2 });
    expect(s.ledger).toMatchObject({ sent: 3, queued: 1 });
    // The progress, from the ledger: its last line is the whole of this send.
    expect(r.stderr).toContain(`${EDITION}: 3/3`);
    // 要聞 only, 科技 only, everything.
    const [a, b, c] = [await html('a'), await html('b'), await html('c')];
    expect(a).toContain(HE);
    expect(a).not.toContain(GOV);
    expect(b).toContain(GOV);
    expect(b).not.toContain(HE);
    expect(c).toContain(HE);
    expect(c).toContain(GOV);
    expect(existsSync(file('d'))).toBe(false);

    const st = run(['status', '--json']);
    expect(st.code, st.stderr).toBe(0);
    const sends = (JSON.parse(st.stdout) as { sends: { edition: string; topicVariants?: number }[] }).sends;
    expect(sends.find((x) => x.edition === EDITION)?.topicVariants).toBe(2);
  }, 240_000);

  it('the next send takes the rest (the variant from the stored payload); runs has one row per send', async () => {
    const r = run(['send', '--transport', 'outbox', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 1, sent: 1, ledger: { sent: 4, queued: 0 } });
    const d = await html('d');
    expect(d).toContain(HE);
    expect(d).not.toContain(GOV);
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const runs = await c.query(
        "SELECT status, summary FROM runs WHERE kind = 'send' AND edition = $1 ORDER BY id",
        [EDITION],
      );
      expect(runs.rows.map((x) => [x.status, JSON.parse(x.summary).sent])).toEqual([
        ['ok', 3],
        ['ok', 1],
      ]);
    } finally {
      await c.end();
    }
  }, 240_000);
});
