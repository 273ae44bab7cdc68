import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, workspaceArgs } from '../helpers/cli.ts';
import { DIRECT_LINKS_FEW_CARDS_YAML as BASE } from '../helpers/few-cards.ts';
import { seedOut } from '../helpers/prebuilt.ts';

// Topic variants at send time (issue 14), through the real CLI: a dry run leaves
// out/ byte-identical (a variant's new lead gets its picture made elsewhere),
// every variant passes the same worst-case size guard as the edition's digest
// (email.maxBytes with overflow drop|fail), and a real send records the variants
// it built in out/<edition>/digest/variants.json.

const EDITION = 'daily-2025-12-10';
const HE = 'he-lifeng-meets-us-executives';
const GOV = 'data-governance-model';
const env = { BROADSHEET_SECRET: 'topics-send-secret-0123456789abcdef' };
let dir: string;
const run = (args: string[]) => cli([...args, ...workspaceArgs(dir)], { env });
// Direct article links: this file checks which stories a digest links (click links: tests/*/analytics-*).
const config = (yaml: string) => writeFileSync(join(dir, 'broadsheet.config.yaml'), `${BASE}${yaml}`);
const outbox = () => join(dir, 'out', EDITION, 'outbox');

/** One hash over every file's path and bytes under out/. */
function treeHash(root: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(relative(root, p)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  walk(root);
  return h.digest('hex');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bs-topics-send-'));
  config('');
  // a@ reads 要聞: their variant leads with HE, whose lead-size picture build never made.
  writeFileSync(join(dir, 'r.csv'), 'email,name,locale,topics\na@example.com,甲,,要聞\nc@example.com,丙,,\n');
  // The sample's out/ built once per run for this config; the build below finds it unchanged and keeps it.
  seedOut(join(dir, 'out'), BASE);
  expect(run(['build']).code).toBe(0);
  expect(run(['subscribers', 'import', join(dir, 'r.csv')]).code).toBe(0);
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('topic variants at send time', () => {
  it('send --dry-run with topic readers leaves out/ byte-identical', () => {
    const before = treeHash(join(dir, 'out'));
    const r = run(['send', '--transport', 'outbox', '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, rendered: 2, topicVariants: 1 });
    expect(treeHash(join(dir, 'out'))).toBe(before);
    expect(existsSync(join(dir, 'out', EDITION, 'digest', 'variants.json'))).toBe(false);
  }, 240_000);

  it('overflow: fail → a variant over email.maxBytes stops the send with DIGEST_TOO_LARGE, nothing sent', () => {
    // The edition was built at the default limit (~53 kB); the variant is checked at send.
    config('email:\n  maxBytes: 45000\n  overflow: fail\n');
    const r = run(['send', '--transport', 'outbox', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('DIGEST_TOO_LARGE');
    expect(existsSync(outbox()) ? readdirSync(outbox()) : []).toEqual([]);
  }, 240_000);

  it('overflow: drop → the variant drops its lowest-priority stories to fit; variants.json and status record it', async () => {
    config('email:\n  maxBytes: 45000\n');
    const r = run(['send', '--transport', 'outbox', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: 2, topicVariants: 1 });
    const mail = await simpleParser(readFileSync(join(outbox(), 'a@example.com.eml')));
    const html = String(mail.html);
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(45000);
    expect(html).toContain(`news.example.com/2025/12/10/${HE}`);
    expect(html).not.toContain(`news.example.com/2025/12/10/${GOV}`);
    const v = JSON.parse(readFileSync(join(dir, 'out', EDITION, 'digest', 'variants.json'), 'utf8'));
    expect(v).toMatchObject({ edition: EDITION, count: 1 });
    expect(v.variants).toEqual([
      expect.objectContaining({ topics: ['要聞'], locales: expect.arrayContaining(['zh-Hant-HK']) }),
    ]);
    expect(v.variants[0].dropped).toContain(GOV);
    expect(v.variants[0].dropped).not.toContain(HE);
    const status = JSON.parse(run(['status', '--json']).stdout) as {
      sends: { edition: string; topicVariants?: number }[];
    };
    expect(status.sends.find((s) => s.edition === EDITION)?.topicVariants).toBe(1);
  }, 240_000);
});
