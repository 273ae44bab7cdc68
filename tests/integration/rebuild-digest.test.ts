// The digest is cached by an input hash (src/jobs/digest-cache.ts): an
// unchanged rebuild keeps the staged files without compiling, and a change in
// any input — article text, a template file, the email config, the locale —
// compiles again. Runs buildEdition in-process on a copy of the sample with
// one card kind × format (the cards have their own cache and tests).
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import type { Context } from '../../src/context.ts';
import { buildEdition } from '../../src/jobs/build.ts';
import { codeFiles } from '../../src/jobs/digest-cache.ts';
import { readManifest } from '../../src/jobs/manifest.ts';
import { testContext } from '../helpers/context.ts';
import { fewCardsConfig } from '../helpers/few-cards.ts';
import { copyWorkingSetup } from '../helpers/workspace.ts';

let dir: string;
const ARTICLE = 'content/articles/2025-12-10/he-lifeng-meets-us-executives.md';

beforeAll(() => {
  dir = copyWorkingSetup('bs-rebuild-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A context on the copy whose logger records each message; `config` is merged over the sample's. */
function ctxFor(config: (c: Record<string, unknown>) => void = () => {}) {
  const raw = loadConfig(fewCardsConfig(dir)).config as unknown as Record<string, unknown>;
  config(raw);
  const ctx: Context = testContext({ root: dir, config: raw });
  const msgs: string[] = [];
  const record = (o: unknown, m?: string) => {
    msgs.push(typeof o === 'string' ? o : (m ?? ''));
  };
  Object.assign(ctx.logger, { info: record, warn: record, debug: () => {} });
  return { ctx: { ...ctx, paths: { ...ctx.paths, content: join(dir, 'content') } }, msgs };
}

async function build(config?: (c: Record<string, unknown>) => void) {
  const { ctx, msgs } = ctxFor(config);
  const b = await buildEdition(ctx);
  const digest = msgs.find((m) => m.startsWith('digest: '));
  return { b, digest: digest?.startsWith('digest: cached') ? 'cached' : 'compiled', msgs };
}

describe('digest cache', () => {
  it('an unchanged rebuild keeps the digest files without compiling; the manifest is the same', async () => {
    const first = await build();
    expect(first.digest).toBe('compiled');
    const html = join(first.b.dir, 'digest/index.html');
    const before = statSync(html).mtimeMs;
    const m1 = await readManifest(first.b.dir);
    expect(m1?.digest?.inputHash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(m1?.digest?.files ?? {})).toContain('digest/index.html');

    const again = await build();
    expect(again.digest).toBe('cached');
    expect(statSync(html).mtimeMs).toBe(before);
    // What callers get is the same digest as a compile (send, the digest job).
    expect(again.b.digest?.html).toBe(first.b.digest?.html);
    expect(again.b.digest?.text).toBe(first.b.digest?.text);
    expect(again.b.digest?.subject).toBe(first.b.digest?.subject);
    expect(Object.keys(again.b.digest?.variants ?? {})).toEqual(Object.keys(first.b.digest?.variants ?? {}));
    const m2 = await readManifest(again.b.dir);
    expect({ ...m2?.digest }).toEqual({ ...m1?.digest });
  });

  it('a changed article recompiles, and the new text is in the digest', async () => {
    const file = join(dir, ARTICLE);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/^title: "(.*)"$/m, 'title: "改過的標題 $1"'));
    try {
      const r = await build();
      expect(r.digest).toBe('compiled');
      expect(readFileSync(join(r.b.dir, 'digest/index.html'), 'utf8')).toContain('改過的標題');
    } finally {
      writeFileSync(file, original);
    }
    expect((await build()).digest).toBe('compiled'); // back to the original text: compiled again
    expect((await build()).digest).toBe('cached');
  });

  it('a changed template file recompiles', async () => {
    const file = join(dir, 'templates/email/digest.txt.liquid');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, `${original}\n{{ "模板改了" }}\n`);
    try {
      // (Liquid keeps parsed templates for the process, so the new text itself
      // shows only in a new process, as each CLI build is.)
      expect((await build()).digest).toBe('compiled');
    } finally {
      writeFileSync(file, original);
    }
    expect((await build()).digest).toBe('compiled');
    expect((await build()).digest).toBe('cached');
  });

  it('a changed email config recompiles, and so does a changed locale', async () => {
    const subject = await build((c) => {
      c.email = { ...(c.email as object), subject: '新主題 {{ date }}' };
    });
    expect(subject.digest).toBe('compiled');
    expect(subject.b.digest?.subject).toContain('新主題');
    const locale = await build((c) => {
      c.locale = 'en-GB';
    });
    expect(locale.digest).toBe('compiled');
    expect((await build()).digest).toBe('compiled');
  });

  it('a staged file edited or deleted since it was written is not kept', async () => {
    const first = await build();
    const html = join(first.b.dir, 'digest/index.html');
    writeFileSync(html, '<p>edited by hand</p>');
    const r = await build();
    expect(r.digest).toBe('compiled');
    expect(readFileSync(html, 'utf8')).not.toContain('edited by hand');
    const thumbs = Object.keys((await readManifest(r.b.dir))?.digest?.files ?? {}).filter((f) =>
      f.startsWith('digest/images/'),
    );
    expect(thumbs.length).toBeGreaterThan(0);
    rmSync(join(r.b.dir, thumbs[0]!));
    expect((await build()).digest).toBe('compiled');
    expect(statSync(join(r.b.dir, thumbs[0]!)).size).toBeGreaterThan(0);
  });

  it('the code version covers the email stage and its locale catalogs', () => {
    const files = codeFiles();
    expect(files).toContain('email/compile.ts');
    expect(files).toContain('email/locales/zh-Hant-HK.ts');
    expect(files).toContain('jobs/build.ts');
  });
});
