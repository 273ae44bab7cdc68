import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, workspaceArgs } from '../helpers/cli.ts';
import { DIRECT_LINKS_FEW_CARDS_YAML as BASE } from '../helpers/few-cards.ts';
import { seedOut } from '../helpers/prebuilt.ts';

// Readers' topics shape their digest, through the real CLI (build, import,
// send --transport outbox): their stories first (reorder) or only theirs
// (filter, with a fallback when none match), one compiled variant per distinct
// topic set — never one per reader.

const EDITION = 'daily-2025-12-10';
// Stories by their link (the preheader also names headlines; links appear only in the stories).
const LEAD = 'china-ai-patents-lead';
const HE = 'he-lifeng-meets-us-executives';
const GOV = 'data-governance-model';
const dirs: string[] = [];

async function sendWith(config: string, rows: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'bs-topics-'));
  dirs.push(dir);
  // Direct article links: this file checks which stories a digest links (click links: tests/*/analytics-*).
  writeFileSync(join(dir, 'broadsheet.config.yaml'), `${BASE}${config}`);
  writeFileSync(join(dir, 'r.csv'), ['email,name,locale,topics', ...rows].join('\n'));
  const env = { BROADSHEET_SECRET: 'topics-test-secret-0123456789abcdef' };
  const run = (args: string[]) => cli([...args, ...workspaceArgs(dir)], { env });
  // The sample's out/ built once per run; this build keeps what its config leaves unchanged (cards).
  seedOut(join(dir, 'out'), BASE);
  expect(run(['build']).code).toBe(0);
  expect(run(['subscribers', 'import', join(dir, 'r.csv')]).code).toBe(0);
  const r = run(['send', '--transport', 'outbox', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout) as { sent: number; topicVariants?: number };
  const status = JSON.parse(run(['status', '--json']).stdout) as {
    sends: { edition: string; topicVariants?: number }[];
  };
  const html = async (email: string) =>
    String((await simpleParser(readFileSync(join(dir, 'out', EDITION, 'outbox', `${email}.eml`)))).html);
  return { summary, html, status };
}

/** Where each story's first link is in a digest (-1: absent). */
const at = (html: string, ...slugs: string[]) =>
  slugs.map((s) => html.indexOf(`href="https://news.example.com/2025/12/10/${s}`));

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('topics shape the digest', () => {
  it('reorder: a reader’s topics come first; same set → same variant; no topics → the edition as built', async () => {
    const { summary, html, status } = await sendWith('', [
      'a@example.com,甲,,要聞',
      'b@example.com,乙,zh-Hans,要聞',
      'c@example.com,丙,,',
      'd@example.com,丁,,科技;要聞',
      'e@example.com,戊,,要聞;科技',
    ]);
    expect(summary.sent).toBe(5);
    // {要聞} and {科技, 要聞}: two variants for five readers (d and e share one set).
    expect(summary.topicVariants).toBe(2);
    expect(status.sends.find((e) => e.edition === EDITION)?.topicVariants).toBe(2);
    const [aHe, aLead] = at(await html('a@example.com'), HE, LEAD);
    expect(aHe).toBeGreaterThan(-1);
    expect(aHe).toBeLessThan(aLead!);
    const [cHe, cLead] = at(await html('c@example.com'), HE, LEAD);
    expect(cLead).toBeLessThan(cHe!);
    // The zh-Hans reader gets the same order, in Simplified.
    const b = await html('b@example.com');
    expect(b).toContain('lang="zh-Hans"');
    const [bHe, bLead] = at(b, HE, LEAD);
    expect(bHe).toBeGreaterThan(-1);
    expect(bHe).toBeLessThan(bLead!);
    const [dGov, dHe, dLead] = at(await html('d@example.com'), GOV, HE, LEAD);
    expect(Math.max(dGov!, dHe!)).toBeLessThan(dLead!);
    // e's set is d's in another order: the same variant, so the same story order.
    const order = (h: string) =>
      [GOV, HE, LEAD, 'china-ai-rule-definer'].sort((x, y) => at(h, x)[0]! - at(h, y)[0]!);
    expect(order(await html('e@example.com'))).toEqual(order(await html('d@example.com')));
  }, 240_000);

  it('filter: only the reader’s stories; none matching → the whole edition', async () => {
    const { summary, html } = await sendWith('editions:\n  daily:\n    topics: filter\n', [
      'f@example.com,己,,要聞',
      'g@example.com,庚,,不存在的主題',
    ]);
    expect(summary.topicVariants).toBe(1);
    const [fHe, fLead, fGov] = at(await html('f@example.com'), HE, LEAD, GOV);
    expect(fHe).toBeGreaterThan(-1);
    expect(fLead).toBe(-1);
    expect(fGov).toBe(-1);
    expect(at(await html('g@example.com'), HE, LEAD, GOV).every((i) => i > -1)).toBe(true);
  }, 240_000);
});
