// `broadsheet preview` through the real CLI: the staged digest merged for a
// sample reader, written to out/<edition>/digest/preview[-<locale>].html, its
// path printed; --open hands it to the desktop opener and never fails.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EDITION, stageDigest, tempDir } from '../fixtures/delivery/ctx.ts';
import { BIN, ROOT } from '../helpers/cli.ts';

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, DEBUG: '', LOG_LEVEL: 'warn', BROADSHEET_SECRET: 'preview', ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => {
      stdout += c;
    });
    p.stderr.on('data', (c) => {
      stderr += c;
    });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function newsroom(config = 'publicUrl: https://news.example.com/broadsheet/\n') {
  const dir = tempDir('bs-preview-');
  const out = join(dir, 'out');
  const cfg = join(dir, 'broadsheet.config.yaml');
  writeFileSync(cfg, config);
  stageDigest(out);
  const args = [
    '--config',
    cfg,
    '--out',
    out,
    '--store',
    join(dir, 'db.sqlite'),
    '--content',
    join(dir, 'c'),
  ];
  return {
    dir,
    digestDir: join(out, EDITION, 'digest'),
    preview: (more: string[], env: NodeJS.ProcessEnv = {}) =>
      cli([...args, 'preview', '--edition', EDITION, ...more], env),
  };
}

describe('broadsheet preview', () => {
  it('writes the digest merged for a sample reader and prints its path', async () => {
    const n = newsroom();
    const r = await n.preview([]);
    expect(r.code, r.stderr).toBe(0);
    const file = join(n.digestDir, 'preview.html');
    expect(r.stdout.trim()).toBe(file); // outside the working directory: shown as an absolute path
    const html = readFileSync(file, 'utf8');
    expect(html).not.toContain('%%'); // every merge field filled
    expect(html).toContain('讀者，你好'); // email.defaultName
    expect(html).toContain('href="https://news.example.com/broadsheet/u/preview"'); // not a token
    expect(html).toContain('href="https://news.example.com/broadsheet/archive/daily-2025-12-10"');
    // The staged digest itself is not changed.
    expect(readFileSync(join(n.digestDir, 'index.html'), 'utf8')).toContain('%%name%%');
  });

  it('uses email.defaultName for the sample reader', async () => {
    const n = newsroom('publicUrl: https://news.example.com/\nemail:\n  defaultName: 親愛的讀者\n');
    expect((await n.preview([])).code).toBe(0);
    expect(readFileSync(join(n.digestDir, 'preview.html'), 'utf8')).toContain('親愛的讀者，你好');
  });

  it('--locale zh-Hans writes preview-zh-Hans.html in Simplified characters (the tag in any case)', async () => {
    const n = newsroom();
    const r = await n.preview(['--locale', 'zh-hans', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; locale: string; subject: string };
    expect(out.locale).toBe('zh-Hans');
    expect(out.file).toBe(join(n.digestDir, 'preview-zh-Hans.html'));
    const html = readFileSync(out.file, 'utf8');
    expect(html).toContain('网上阅读');
    expect(html).not.toContain('網上閱讀');
    expect(out.subject).toContain('数读');
    expect(existsSync(join(n.digestDir, 'preview.html'))).toBe(false);
  });

  it('an unknown locale is PREVIEW_LOCALE_UNKNOWN (exit 2) naming the known ones; nothing written', async () => {
    const n = newsroom();
    const r = await n.preview(['--locale', 'fr']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error PREVIEW_LOCALE_UNKNOWN: .*"fr".*zh-Hant-HK, zh-Hans/m);
    expect(existsSync(join(n.digestDir, 'preview-fr.html'))).toBe(false);
  });

  it('--open with no opener on PATH still succeeds, with a note', async () => {
    const n = newsroom();
    const empty = join(n.dir, 'empty-bin');
    mkdirSync(empty);
    const r = await n.preview(['--open'], { PATH: empty });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(n.digestDir, 'preview.html'));
    expect(r.stderr).toMatch(/could not open it \(xdg-open: ENOENT\)/);
  });

  it.runIf(process.platform === 'linux')('--open hands the file to xdg-open', async () => {
    const n = newsroom();
    const bin = join(n.dir, 'bin');
    mkdirSync(bin);
    const seen = join(n.dir, 'opened.txt');
    // A stand-in opener (a real program on PATH) that records what it was asked to open.
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const r = await n.preview(['--open'], { PATH: `${bin}:/usr/bin:/bin` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('could not open');
    // The opener runs detached and is not waited for: give it a moment to write.
    for (let i = 0; i < 100 && !existsSync(seen); i++) await new Promise((res) => setTimeout(res, 50));
    expect(readFileSync(seen, 'utf8')).toBe(join(n.digestDir, 'preview.html'));
  });
});
