// `broadsheet check` (the real CLI) warns when the digest subject is longer
// than a phone shows, without failing the check.
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, workspaceArgs } from '../helpers/cli.ts';
import { cleanEnv, copyWorkingSetup } from '../helpers/workspace.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function check(extraConfig: string) {
  const dir = copyWorkingSetup('bs-email-check-');
  dirs.push(dir);
  appendFileSync(join(dir, 'broadsheet.config.yaml'), extraConfig);
  const r = cli(['check', '--json', ...workspaceArgs(dir)], { cwd: dir, env: cleanEnv() });
  return {
    ...r,
    out: JSON.parse(r.stdout) as { ok: boolean; warnings: { code: string; message: string }[] },
  };
}

describe('check and the digest subject', () => {
  it('has no subject warning for the sample with the default subject (the lead headline)', () => {
    const r = check('');
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.warnings.map((w) => w.code)).not.toContain('DIGEST_SUBJECT_LONG');
  });

  it('warns DIGEST_SUBJECT_LONG past email.subjectWarnAt, and still passes', () => {
    const r = check('\nemail:\n  subjectWarnAt: 12\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.ok).toBe(true);
    const w = r.out.warnings.find((x) => x.code === 'DIGEST_SUBJECT_LONG');
    expect(w?.message).toContain('中國AI突飛猛進');
    expect(w?.message).toMatch(/is 16 characters, over ~12/);
  }, 60_000);
});
