import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { fewCardsConfig } from '../helpers/few-cards.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'bs-cli-'));

describe('broadsheet check', () => {
  it('exits 0 on the sample content', () => {
    const r = cli(['check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4 article\(s\) and 2 stat set\(s\) valid/);
    expect(r.stdout).toContain('daily-2025-12-10');
  });

  it('exits 1 on broken content, naming every bad file, without a stack trace', () => {
    const r = cli(['check', '--content', 'tests/fixtures/content-bad']);
    expect(r.code).toBe(1);
    for (const f of [
      'broken-yaml.md',
      'missing-fields.md',
      'impossible-date.md',
      'no-offset.md',
      'javascript-url.md',
      'data-url.md',
      'control-chars.md',
      'long-title.md',
      'image-escape.md',
      'http-image.md',
      'zz-duplicate-id.md',
      'empty.md',
      'binary.md',
      'no-front-matter.md',
      'string-number.yaml',
      'missing-unit.yaml',
      'empty-group.yaml',
      'no-groups.yaml',
      'stats/impossible-date.yaml',
    ])
      expect(r.stderr).toContain(f);
    expect(r.stderr).toContain(
      'stats/string-number.yaml:11 → groups[0].stats[1].value: expected number, received "157.6萬"',
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // http-image.md has two (image.src and quote.portrait.src).
    expect(r.stderr).toMatch(/21 problem\(s\) in 19 file\(s\)/);
  });

  it('prints the problems as JSON with --json', () => {
    const r = cli(['check', '--content', 'tests/fixtures/content-bad', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { ok: boolean; problems: { code: string; file: string }[] };
    expect(j.ok).toBe(false);
    expect(j.problems.map((p) => p.code)).toContain('CONTENT_DUPLICATE_ID');
  });

  it('exits 2 on a bad configuration, listing every path', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'c.yaml'), 'timezone: Nowhere/City\neditions:\n  daily:\n    maxArticles: 0\n');
    const r = cli(['check', '--config', join(dir, 'c.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CONFIG_INVALID');
    expect(r.stderr).toContain('timezone (line 1)');
    expect(r.stderr).toContain('editions.daily.maxArticles (line 4)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on bad usage', () => {
    expect(cli(['no-such-command']).code).toBe(2);
    expect(cli(['build', '--edition']).code).toBe(2);
    const r = cli(['build', '--edition', 'nonsense', '--out', tmp()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('EDITION_ID_INVALID');
  });

  it('prints a stack only with DEBUG', () => {
    const r = cli(['check', '--content', '/nonexistent/dir'], { env: { DEBUG: '1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CONTENT_DIR_MISSING');
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('broadsheet build', () => {
  it('writes out/<edition-id>/manifest.json for the latest edition', () => {
    const out = tmp();
    // Few cards (og × statset): this is about the manifest; run-main.test.ts
    // builds the full sample.
    const r = cli(['build', '--config', fewCardsConfig(tmp()), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'daily-2025-12-10', 'manifest.json'), 'utf8'));
    expect(m.edition.id).toBe('daily-2025-12-10');
    expect(m.edition.articles[0].id).toBe('china-ai-patents-lead');
    expect(m.edition.articles).toHaveLength(4);
    expect(m.edition.stats.map((s: { id: string }) => s.id).sort()).toEqual([
      'china-ai-2025',
      'china-ai-industry',
    ]);
    expect(Date.parse(m.generatedAt)).not.toBeNaN();
    // One contact sheet per card format, listed with its size and hash.
    const formats = [...new Set(m.cards.map((c: { format: string }) => c.format))];
    expect(m.contact.map((c: { format: string }) => c.format)).toEqual(formats);
    for (const c of m.contact) {
      const png = readFileSync(join(out, 'daily-2025-12-10', c.path));
      expect([c.width, c.height]).toEqual([png.readUInt32BE(16), png.readUInt32BE(20)]);
      expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('builds the valid files of a folder with problems, and says which were left out', () => {
    const out = tmp();
    const r = cli([
      'build',
      '--config',
      fewCardsConfig(tmp()), // few cards: this is about the files left out
      '--content',
      'tests/fixtures/content-bad',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).edition.articles.map((a: { id: string }) => a.id)).toEqual(['valid-hostile']);
    expect(r.stderr).toContain('CONTENT_YAML');
    expect(existsSync(join(out, 'daily-2025-12-10', 'manifest.json'))).toBe(true);
  });

  it('refuses an edition day without content', () => {
    const r = cli(['build', '--edition', 'daily-2030-01-01', '--out', tmp()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('EDITION_NOT_FOUND');
    expect(r.stderr).toContain('daily-2025-12-10');
  });
});

describe('broadsheet run', () => {
  it('refuses an unknown job with exit 2', () => {
    const r = cli(['run', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('JOB_UNKNOWN');
  });
});
