// A rebuild that redraws a few cards draws them, and writes the contact
// sheets, in one worker thread while the digest compiles on the main thread
// (src/cards/index.ts startCards, src/jobs/build.ts). What it writes must be
// what a fresh in-process build writes; a card failing there fails as it does
// in-process; a digest failing meanwhile fails the build with its own code and
// leaves no worker running and the last manifest in place.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import type { Context } from '../../src/context.ts';
import { isBroadsheetError } from '../../src/errors/index.ts';
import { buildEdition } from '../../src/jobs/build.ts';
import { readManifest } from '../../src/jobs/manifest.ts';
import { testContext } from '../helpers/context.ts';
import { copyWorkingSetup } from '../helpers/workspace.ts';

const ARTICLE = 'content/articles/2025-12-10/he-lifeng-meets-us-executives.md';
const ARTICLE_ID = 'he-lifeng-meets-us-executives';
let dir: string;

beforeAll(() => {
  dir = copyWorkingSetup('bs-beside-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A context on the copy (article cards × og and wechat: two sheets), output under `out`. */
function ctxFor(out: string, cards: Record<string, unknown> = {}, email: Record<string, unknown> = {}) {
  const raw = loadConfig(join(dir, 'broadsheet.config.yaml')).config as unknown as Record<string, unknown>;
  raw.cards = { ...(raw.cards as object), formats: ['og', 'wechat'], kinds: ['article'], ...cards };
  raw.email = { ...(raw.email as object), ...email };
  const ctx: Context = testContext({ root: dir, config: raw });
  const logs: { msg: string; obj: Record<string, unknown> }[] = [];
  const record = (o: unknown, m?: string) => {
    logs.push(
      typeof o === 'string' ? { msg: o, obj: {} } : { msg: m ?? '', obj: o as Record<string, unknown> },
    );
  };
  Object.assign(ctx.logger, { info: record, warn: record, error: record, debug: () => {} });
  const c: Context = { ...ctx, paths: { ...ctx.paths, content: join(dir, 'content'), out: join(dir, out) } };
  return { ctx: c, logs };
}

const rendered = (logs: { msg: string; obj: Record<string, unknown> }[]) =>
  logs.find((l) => l.msg === 'cards rendered')?.obj;

/** Build into a fresh `out` folder in-process, as a first build does. */
async function freshBuild(out: string) {
  rmSync(join(dir, out), { recursive: true, force: true });
  const { ctx, logs } = ctxFor(out, { workers: 0 });
  return { b: await buildEdition(ctx), logs };
}

function edit(replace: (text: string) => string): () => void {
  const file = join(dir, ARTICLE);
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, replace(original));
  return () => writeFileSync(file, original);
}

describe('a few cards drawn beside the digest', () => {
  it('writes the same cards, contact sheets and manifest as a fresh in-process build', async () => {
    const first = ctxFor('out');
    const all = (await buildEdition(first.ctx)).manifest.cards.length;
    expect(all).toBeGreaterThan(2);
    // Fewer than cards.poolThreshold: even a first build draws them beside the digest.
    expect(rendered(first.logs)).toMatchObject({ rendered: all, workers: 1 });

    const restore = edit((t) => t.replace(/^dek: "(.*)"$/m, 'dek: "$1（更新）"'));
    try {
      const again = ctxFor('out');
      const b = await buildEdition(again.ctx);
      expect(rendered(again.logs)).toMatchObject({ rendered: 2, kept: all - 2, workers: 1 });
      expect(again.logs.map((l) => l.msg)).toContain('digest: compiled');

      const fresh = await freshBuild('out-fresh');
      const m = await readManifest(b.dir);
      const f = await readManifest(fresh.b.dir);
      expect(m?.cards.map((c) => [c.id, c.sha256])).toEqual(f?.cards.map((c) => [c.id, c.sha256]));
      const sheets = f?.contact ?? [];
      expect(m?.contact?.map((c) => [c.format, c.sha256])).toEqual(sheets.map((c) => [c.format, c.sha256]));
      expect(sheets).toHaveLength(2);
      for (const s of sheets)
        expect(readFileSync(join(b.dir, s.path)).equals(readFileSync(join(fresh.b.dir, s.path)))).toBe(true);
    } finally {
      restore();
    }
  });

  it('a card that fails in the worker is reported with its code; the old file stays, the rest builds', async () => {
    const { ctx } = ctxFor('out');
    await buildEdition(ctx);
    const before = await readManifest(join(dir, 'out', 'daily-2025-12-10'));
    const restore = edit((t) => t.replace(/^title: "(.*)"$/m, 'title: "爪哇文字ꦄ $1"'));
    try {
      const again = ctxFor('out');
      const b = await buildEdition(again.ctx);
      expect(rendered(again.logs)).toMatchObject({ rendered: 0, failed: 2, workers: 1 });
      const failures = b.manifest.failures.filter((x) => x.itemId === ARTICLE_ID);
      expect(failures.map((x) => [x.format, x.code])).toEqual([
        ['og', 'CARD_MISSING_GLYPH'],
        ['wechat', 'CARD_MISSING_GLYPH'],
      ]);
      expect(failures[0]!.message).toContain('U+A984');
      // The last good card is still on disk; the others are kept; the digest has the new title.
      const old = before!.cards.find((c) => c.id === `${ARTICLE_ID}/og`)!;
      expect(readFileSync(join(b.dir, old.path)).length).toBeGreaterThan(0);
      expect(b.manifest.cards).toHaveLength(before!.cards.length - 2);
      expect(b.digest?.html).toContain('爪哇文字');
    } finally {
      restore();
    }
  });

  it('a contact sheet that cannot be written fails the build, beside the digest as in-process', async () => {
    const { ctx } = ctxFor('out');
    await buildEdition(ctx);
    const sheet = join(dir, 'out', 'daily-2025-12-10', 'contact', 'og.png');
    rmSync(sheet);
    mkdirSync(join(sheet, 'in-the-way'), { recursive: true }); // a folder where the sheet goes
    const restore = edit((t) => t.replace(/^dek: "(.*)"$/m, 'dek: "$1（擋住）"'));
    try {
      const fail = async (cards: Record<string, unknown>) => {
        const c = ctxFor('out', cards);
        const err = await buildEdition(c.ctx).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        return { err, logs: c.logs };
      };
      const beside = await fail({});
      expect(rendered(beside.logs)).toMatchObject({ rendered: 2, workers: 1 });
      expect(beside.err?.message).toMatch(/EISDIR|illegal operation on a directory/);
      const here = await fail({ workers: 0 });
      expect(rendered(here.logs)).toMatchObject({ workers: 0 });
      expect(here.err?.message).toMatch(/EISDIR|illegal operation on a directory/);
    } finally {
      restore();
      rmSync(sheet, { recursive: true, force: true });
    }
  });

  it('a digest that fails while the worker draws fails the build with its code; no worker is left, the manifest stays', async () => {
    const { ctx } = ctxFor('out');
    await buildEdition(ctx);
    const manifest = join(dir, 'out', 'daily-2025-12-10', 'manifest.json');
    const before = readFileSync(manifest, 'utf8');
    // Another template folder: Liquid keeps parsed templates per folder for the process.
    cpSync(join(dir, 'templates/email'), join(dir, 'templates/email-broken'), { recursive: true });
    const template = join(dir, 'templates/email-broken/digest.mjml');
    writeFileSync(template, `${readFileSync(template, 'utf8')}\n{% if unclosed %}\n`);
    const restore = edit((t) => t.replace(/^dek: "(.*)"$/m, 'dek: "$1（再更新）"'));
    // The worker threads alive in this process (Node's diagnostic report lists them).
    const threads = () => (process.report.getReport() as { workers: unknown[] }).workers.length;
    const idle = threads();
    try {
      const again = ctxFor('out', {}, { templates: 'email-broken' });
      const err = await buildEdition(again.ctx).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isBroadsheetError(err), String(err)).toBe(true);
      expect(err).toMatchObject({ code: 'TEMPLATE_ERROR' });
      expect(readFileSync(manifest, 'utf8')).toBe(before);
      expect(threads()).toBeLessThanOrEqual(idle);
    } finally {
      restore();
    }
  });
});
