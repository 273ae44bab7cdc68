import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { textWidth } from '../../src/email/text.ts';
import { LEAD_TITLE, writeManifest } from '../fixtures/report/manifest.ts';
import { EDITION, EXPECTED, fillStore, OLDER } from '../fixtures/report/store.ts';
import { cli, workspaceArgs } from '../helpers/cli.ts';

// `broadsheet report` through the real CLI, on a store of known rows.
let dir: string;
const run = (...args: string[]) => cli(['report', ...args, ...workspaceArgs(dir)]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bs-report-cli-'));
  writeFileSync(join(dir, 'broadsheet.config.yaml'), 'timezone: Asia/Hong_Kong\n');
  fillStore(join(dir, 'db.sqlite')).close();
  writeManifest(join(dir, 'out'));
});

describe('broadsheet report', () => {
  it('without an edition: the latest one, as aligned text with story titles', () => {
    const r = run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Edition ${EDITION}`);
    expect(r.stdout).toMatch(/^ {2}sent +12 +incl\. 2 in doubt/m);
    expect(r.stdout).toMatch(/^ {2}bounced hard +3 /m);
    expect(r.stdout).toMatch(/^ {2}unique clickers +4 /m);
    // Title from the manifest; its numbers end in the same terminal column as the Latin rows'.
    const rows = r.stdout.split('\n').filter((l) => /^ {2}[123] {2}/.test(l));
    expect(rows[0]).toContain(LEAD_TITLE);
    expect(rows[2]).toContain('not-in-manifest');
    expect(new Set(rows.map((l) => textWidth(l))).size).toBe(1);
  });

  it('--json: one document with the numbers', () => {
    const r = run(EDITION, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      edition: EDITION,
      sent: EXPECTED.sent,
      bounced: EXPECTED.bounced,
      delivered: EXPECTED.delivered,
      complained: 1,
      unsubscribed: EXPECTED.unsubscribed,
      clicks: { ...EXPECTED.clicks },
    });
    expect(j.clicks.stories[0].title).toBe(LEAD_TITLE);
    expect(j.timeline.hours).toHaveLength(48);
  });

  it('--last N --json: the headline numbers of the last N editions', () => {
    const r = run('--last', '5', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.editions.map((e: { edition: string }) => e.edition)).toEqual([EDITION, OLDER]);
  });

  it('an unknown edition: REPORT_EDITION_UNKNOWN, exit 2, naming the editions sent', () => {
    const r = run('daily-1999-01-01');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('REPORT_EDITION_UNKNOWN');
    expect(r.stderr).toContain(`${EDITION}, ${OLDER}`);
    expect(r.stdout).toBe('');
  });
});
