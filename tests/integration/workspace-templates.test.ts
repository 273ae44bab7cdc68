import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from '../helpers/cli.ts';
import { cleanEnv } from '../helpers/workspace.ts';

// A newsroom's own folder: content/, templates/ and a config copied out of the
// repository, with no package.json and no src/ beside them. Every card kind's
// layout must still load (before: the .ts layouts were read as CommonJS without
// a "type": "module" around them, and quote.ts imported ../../src/ at run time,
// so 234 of 234 cards failed with CARD_LAYOUT_MISSING).
describe('templates/ copied anywhere', () => {
  it('builds every card kind in a folder with no package.json and no src/', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bs-own-folder-'));
    for (const p of ['content', 'templates', 'broadsheet.config.yaml'])
      cpSync(join(ROOT, p), join(dir, p), { recursive: true });
    const config = join(dir, 'one-format.yaml');
    writeFileSync(
      config,
      `${readFileSync(join(ROOT, 'broadsheet.config.yaml'), 'utf8')}\ncards:\n  formats: [og]\n`,
    );
    expect(existsSync(join(dir, 'package.json'))).toBe(false);
    const r = cli(['--config', config, 'build', '--json'], { cwd: dir, env: cleanEnv() });
    expect(r.stderr).not.toContain('CARD_LAYOUT_MISSING');
    expect(r.code).toBe(0);
    const manifest = JSON.parse(r.stdout) as { cards: { kind: string }[]; failures: unknown[] };
    expect(manifest.failures).toEqual([]);
    expect(new Set(manifest.cards.map((c) => c.kind))).toEqual(
      new Set(['article', 'stat', 'statset', 'quote']),
    );
  });
});
