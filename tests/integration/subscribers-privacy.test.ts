import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { fewCardsConfig, fewCardsText } from '../helpers/few-cards.ts';
import { seedOut } from '../helpers/prebuilt.ts';

// `subscribers export` / `forget` through the real CLI and a real SQLite store:
// what a reader is handed, what erasure leaves behind, and that a forgotten
// address cannot be brought back by an import or `subscribers add`.

const dir = mkdtempSync(join(tmpdir(), 'bs-privacy-'));
const out = join(dir, 'out');
const store = join(dir, 'db.sqlite');
const env = { BROADSHEET_SECRET: 'privacy-test-secret-0123456789abcdef' };
// Cards are not what this file tests: one format and kind keeps the build short.
const config = fewCardsConfig(dir);
const run = (args: string[]) => cli([...args, '--config', config, '--out', out, '--store', store], { env });
const csv = join(dir, 'readers.csv');
writeFileSync(
  csv,
  [
    'email,name,locale,topics',
    'wong.siuming@example.com,黃小明,zh-Hant-HK,科技;要聞',
    'ho@example.com,何,,',
  ].join('\n'),
);

beforeAll(() => {
  // The sample's out/ built once per run for this config; the build below finds it unchanged and keeps it.
  seedOut(out, fewCardsText());
  expect(run(['build']).code).toBe(0);
  expect(run(['subscribers', 'import', csv]).code).toBe(0);
  expect(run(['send', '--transport', 'json']).code).toBe(0);
}, 180_000);

describe('subscribers export', () => {
  it('prints profile, consent, sends and events as JSON', () => {
    const r = run(['subscribers', 'export', 'Wong.SiuMing@example.com']);
    expect(r.code).toBe(0);
    const x = JSON.parse(r.stdout);
    expect(x.profile).toMatchObject({
      email: 'wong.siuming@example.com',
      name: '黃小明',
      topics: ['科技', '要聞'],
    });
    expect(x.consent).toHaveLength(1);
    expect(x.consent[0]).toMatchObject({ source: 'import', confirmedAt: null });
    expect(x.consent[0].detail).toContain('readers.csv');
    expect(x.sends).toHaveLength(1);
    expect(x.sends[0]).toMatchObject({ state: 'sent', transport: 'json' });
    expect(x.events.map((e: { type: string }) => e.type)).toEqual(['added', 'sent']);
  });

  it('an unknown address is SUBSCRIBER_UNKNOWN, exit 1', () => {
    const r = run(['subscribers', 'export', 'nobody@example.com', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SUBSCRIBER_UNKNOWN');
  });
});

describe('subscribers forget', () => {
  it('erases the address everywhere, keeps only a keyed hash, and the edition counts', () => {
    const r = run(['subscribers', 'forget', 'wong.siuming@example.com']);
    expect(r.code).toBe(0);
    const db = new Database(store, { readonly: true });
    try {
      const dump = JSON.stringify([
        db.prepare('SELECT * FROM subscribers').all(),
        db.prepare('SELECT * FROM sends').all(),
        db.prepare('SELECT * FROM consent').all(),
        db.prepare('SELECT * FROM signups').all(),
        db.prepare('SELECT * FROM suppression').all(),
      ]);
      expect(dump).not.toMatch(/wong|siuming|黃小明/i);
      expect(dump).toContain('ho@example.com');
      const sup = db.prepare('SELECT * FROM suppression').all() as { hash: string; reason: string }[];
      expect(sup).toEqual([expect.objectContaining({ reason: 'forgotten' })]);
      expect(sup[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
      // The keyed hash is not a plain SHA-256 of the address.
      expect(sup[0]!.hash).not.toBe(createHash('sha256').update('wong.siuming@example.com').digest('hex'));
      expect(
        (db.prepare("SELECT count(*) AS n FROM sends WHERE state = 'sent'").get() as { n: number }).n,
      ).toBe(2);
    } finally {
      db.close();
    }
    // Nothing left to export; a second forget finds nothing.
    expect(run(['subscribers', 'export', 'wong.siuming@example.com']).code).toBe(1);
    expect(run(['subscribers', 'forget', 'wong.siuming@example.com']).code).toBe(1);
  });

  it('a forgotten address is refused by add (SUBSCRIBER_SUPPRESSED) and skipped by import', () => {
    const add = run(['subscribers', 'add', 'WONG.siuming@example.com']);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain('SUBSCRIBER_SUPPRESSED');
    const imp = run(['subscribers', 'import', csv, '--json']);
    expect(imp.code).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ added: 0, suppressed: 1, unchanged: 1 });
    const list = JSON.parse(run(['subscribers', 'list', '--json']).stdout) as { email: string }[];
    expect(list.map((s) => s.email).filter((e) => e.includes('wong'))).toEqual([]);
    // The anonymous placeholder forget left is hidden from list, shown with --all.
    expect(list.map((s) => s.email).filter((e) => e.startsWith('erased-'))).toEqual([]);
    const text = run(['subscribers', 'list']).stdout;
    expect(text).not.toContain('@invalid');
    const all = JSON.parse(run(['subscribers', 'list', '--all', '--json']).stdout) as { email: string }[];
    expect(all.map((s) => s.email).filter((e) => /^erased-\d+@invalid$/.test(e))).toHaveLength(1);
    expect(all.length).toBe(list.length + 1);
  });

  it('rotation: still refused under a new secret with the old one in BROADSHEET_SECRET_PREVIOUS, then re-keyed', () => {
    const other = { BROADSHEET_SECRET: 'a-new-secret-0123456789abcdefghij' };
    const denied = cli(['subscribers', 'add', 'wong.siuming@example.com', '--out', out, '--store', store], {
      env: { ...other, BROADSHEET_SECRET_PREVIOUS: env.BROADSHEET_SECRET },
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('SUBSCRIBER_SUPPRESSED');
    // …and it was re-keyed under the new secret on that check: it holds without the old one now.
    const again = cli(['subscribers', 'add', 'wong.siuming@example.com', '--out', out, '--store', store], {
      env: other,
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('SUBSCRIBER_SUPPRESSED');
  });
});
