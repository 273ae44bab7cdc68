import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveHtml } from '../../src/review/archive.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';

// The archive ("view in browser") shows the staged digest; a web view is not an
// open, so the open pixel (analytics.openPixel) must not be served there.
function staged(html: string) {
  const dir = tempDir('bs-archive-pixel-');
  mkdirSync(join(dir, 'digest'), { recursive: true });
  writeFileSync(join(dir, 'digest', 'index.html'), html);
  return { id: 'daily-2026-11-30', dir, manifest: { digest: { html: 'digest/index.html' } } } as never;
}
const opts = {
  defaultName: '讀者',
  archiveUrl: 'https://news.example.com/archive/x',
  brandUrl: 'https://news.example.com/',
};

describe('archive page', () => {
  it('leaves out the open pixel, with or without the reader part, and keeps every other image', () => {
    const html =
      '<p>Hi %%name%%</p><img src="https://news.example.com/b/archive/x/images/a.jpg" width="96">' +
      '<img src="https://news.example.com/b/o/AbC-12_x%%reader_ref%%.gif" width="1" height="1" alt="" style="display:block">' +
      '<img src="https://news.example.com/b/o/ZZ9.gif" width="1" height="1" alt="">';
    const out = archiveHtml(staged(html), opts)!;
    expect(out).not.toMatch(/\/o\//);
    expect(out).toContain('images/a.jpg');
    expect(out).toContain('Hi 讀者');
  });
});
