import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportSourceFor } from '../../src/report/source.ts';
import { type Backend, closeBackend, openBackend } from '../../src/store/backend.ts';
import { EVENT_KINDS } from '../../src/store/events.ts';
import { cli } from '../helpers/cli.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';
import { STORE_CONFIG } from '../helpers/stores.ts';

// `broadsheet report` on PostgreSQL (issue 17): both stores filled with the
// same seeded sends, events, clicks and opens give the same report — from the
// functions and from the CLI (--json, text, --last), errors included.

const pgOk = await needsPostgres();
const env = { BROADSHEET_SECRET: 'test-secret-for-tokens-0123456789' };

/** A small seeded generator (mulberry32): the same rows on every run. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rows = Record<string, { cols: string[]; rows: unknown[][] }>;

function seededRows(): Rows {
  const r = rng(20261130);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const iso = (base: string, maxMin: number) =>
    new Date(Date.parse(base) + Math.floor(r() * maxMin) * 60_000).toISOString();
  const N = 400;
  const editions = [
    ['daily-2026-11-28', '2026-11-28T00:00:00.000Z'],
    ['daily-2026-11-29', '2026-11-29T00:00:00.000Z'],
    ['daily-2026-11-30', '2026-11-30T00:00:00.000Z'],
  ] as const;
  const out: Rows = {
    subscribers: { cols: ['id', 'email', 'status', 'topics', 'created_at', 'updated_at'], rows: [] },
    sends: {
      cols: [
        'edition',
        'subscriber_id',
        'email',
        'state',
        'attempts',
        'message_id',
        'created_at',
        'updated_at',
        'sent_at',
      ],
      rows: [],
    },
    mail_events: {
      cols: ['kind', 'source', 'subscriber_id', 'edition', 'external_id', 'occurred_at', 'received_at'],
      rows: [],
    },
    clicks: { cols: ['edition', 'story', 'subscriber_id', 'visitor', 'method', 'scanner', 'at'], rows: [] },
    opens: { cols: ['edition', 'visitor', 'subscriber_id', 'at'], rows: [] },
  };
  for (let id = 1; id <= N; id++)
    out.subscribers!.rows.push([
      id,
      `r${id}@example.com`,
      'active',
      '[]',
      '2026-11-01T00:00:00.000Z',
      '2026-11-01T00:00:00.000Z',
    ]);
  const states = [
    'sent',
    'sent',
    'sent',
    'sent',
    'committed',
    'deferred',
    'failed',
    'suppressed',
    'queued',
  ] as const;
  let ev = 0;
  for (const [edition, base] of editions) {
    for (let id = 1; id <= N; id++) {
      const state = pick(states);
      const sentAt = state === 'sent' || state === 'committed' ? iso(base, 30) : null;
      out.sends!.rows.push([
        edition,
        id,
        `r${id}@example.com`,
        state,
        1,
        `<${edition}.${id}@x>`,
        base,
        base,
        sentAt,
      ]);
      if (r() < 0.25) {
        const kind = edition === 'daily-2026-11-28' && r() < 0.5 ? 'delivered' : pick(EVENT_KINDS);
        out.mail_events!.rows.push([
          kind,
          pick(['inbound', 'ses', 'link']),
          r() < 0.1 ? null : id,
          edition,
          r() < 0.5 ? `e${ev++}` : null,
          iso(base, 600),
          iso(base, 600),
        ]);
      }
      for (let k = Math.floor(r() * 3); k > 0; k--) {
        const perReader = r() < 0.6;
        out.clicks!.rows.push([
          edition,
          pick(['china-ai', 'hk-budget', 'stats-ai', 'markets']),
          perReader ? id : null,
          `v${Math.floor(r() * 150)}`,
          'GET',
          r() < 0.1 ? 1 : 0,
          iso(base, 60 * 50),
        ]);
      }
      if (edition !== 'daily-2026-11-29' && r() < 0.3)
        out.opens!.rows.push([edition, `v${Math.floor(r() * 100)}`, r() < 0.5 ? id : null, iso(base, 600)]);
    }
  }
  return out;
}

async function fill(b: Backend, data: Rows) {
  for (const [table, { cols, rows }] of Object.entries(data)) {
    const sql = (n: number, p: (i: number) => string) =>
      `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${Array.from({ length: n }, (_, i) => `(${cols.map((_c, j) => p(i * cols.length + j + 1)).join(', ')})`).join(', ')}`;
    if (b.kind === 'sqlite') {
      const ins = b.db.prepare(sql(1, () => '?'));
      b.db.transaction(() => {
        for (const row of rows) ins.run(...row);
      })();
    } else
      for (let i = 0; i < rows.length; i += 500) {
        const part = rows.slice(i, i + 500);
        await b.pool.query(
          sql(part.length, (k) => `$${k}`),
          part.flat(),
        );
      }
  }
}

describe.skipIf(!pgOk)('report on PostgreSQL, compared with SQLite', () => {
  let pgdb: PgTestDb;
  let dir: string;
  let sqlite: Backend;
  let pg: Backend;
  beforeAll(async () => {
    pgdb = await freshPgDatabase();
    dir = mkdtempSync(join(tmpdir(), 'bs-report-pg-'));
    sqlite = await openBackend({ kind: 'sqlite', file: join(dir, 'b.db') }, STORE_CONFIG);
    pg = await openBackend({ kind: 'postgres', url: pgdb.url }, STORE_CONFIG);
    const data = seededRows();
    await fill(sqlite, data);
    await fill(pg, data);
  });
  afterAll(async () => {
    if (sqlite) await closeBackend(sqlite);
    if (pg) await closeBackend(pg);
    await pgdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every edition: the same report, editions list and recent summaries', async () => {
    const a = reportSourceFor(sqlite);
    const p = reportSourceFor(pg);
    const editions = await a.sentEditions();
    expect(editions.map((e) => e.edition)).toEqual([
      'daily-2026-11-30',
      'daily-2026-11-29',
      'daily-2026-11-28',
    ]);
    expect(await p.sentEditions()).toEqual(editions);
    for (const { edition } of editions) {
      const ra = await a.collectReport(edition);
      // Not a comparison of two empty reports: the seeded rows are in it.
      expect(ra.sent).toBeGreaterThan(100);
      expect(ra.clicks.total).toBeGreaterThan(100);
      expect(ra.bounced.hard + ra.bounced.soft + ra.complained + ra.unsubscribed.count).toBeGreaterThan(10);
      expect(await p.collectReport(edition)).toEqual(ra);
    }
    expect((await a.collectReport('daily-2026-11-28')).delivered.basis).toBe('events');
    expect((await a.collectReport('daily-2026-11-30')).opens).not.toBeNull();
    expect(await p.collectRecent(2)).toEqual(await a.collectRecent(2));
    expect(await p.editionExists('daily-2026-11-29')).toBe(true);
    expect(await p.editionExists('daily-1999-01-01')).toBe(false);
  });

  it('the CLI prints the same report from both stores (JSON, text, --last) and the same errors', () => {
    const run = (store: string, args: string[]) => {
      const r = cli(['--store', store, 'report', ...args], { env });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr.replaceAll(store, '<store>') };
    };
    const cases = [
      ['--json'],
      ['daily-2026-11-29', '--json'],
      ['daily-2026-11-28'],
      ['--last', '3', '--json'],
      ['daily-1999-01-01'],
    ];
    for (const args of cases) {
      const a = run(join(dir, 'b.db'), args);
      expect({ args, ...run(pgdb.url, args) }).toEqual({ args, ...a });
    }
    expect(JSON.parse(run(pgdb.url, ['--json']).stdout).edition).toBe('daily-2026-11-30');
    expect(run(pgdb.url, ['daily-1999-01-01']).stderr).toContain('REPORT_EDITION_UNKNOWN');
  });

  it('an empty or never-migrated PostgreSQL store: REPORT_NO_EDITIONS, and report does not migrate it', async () => {
    const empty = await freshPgDatabase('bs_test_empty');
    try {
      const r = cli(['--store', empty.url, 'report'], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('REPORT_NO_EDITIONS');
      const b = await openBackend({ kind: 'postgres', url: empty.url }, STORE_CONFIG, { migrate: false });
      try {
        const { pgSchemaVersion } = await import('../../src/store/pg/schema.ts');
        expect(await pgSchemaVersion((b as Extract<Backend, { kind: 'postgres' }>).pool)).toBe(0);
      } finally {
        await closeBackend(b);
      }
      expect(cli(['--store', empty.url, 'migrate'], { env }).code).toBe(0);
      const again = cli(['--store', empty.url, 'report'], { env });
      expect([again.code, again.stderr.includes('REPORT_NO_EDITIONS')]).toEqual([1, true]);
    } finally {
      await empty.drop();
    }
  });
});
