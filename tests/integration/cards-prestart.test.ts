// The `build` command starts a rebuild's card worker before the build's own
// modules load (src/cards/beside.ts), but only when a content file changed
// after the last build: an unchanged rebuild must not pay for a worker it
// closes. A started worker is the one the build draws in, and one nothing
// takes is closed.
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePrestarted, prestartBeside, takePrestarted } from '../../src/cards/beside.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Context } from '../../src/context.ts';
import { buildEdition } from '../../src/jobs/build.ts';
import { testContext } from '../helpers/context.ts';
import { copyWorkingSetup } from '../helpers/workspace.ts';

const ARTICLE = 'content/articles/2025-12-10/he-lifeng-meets-us-executives.md';
let dir: string;
let content: string;

beforeAll(() => {
  dir = copyWorkingSetup('bs-prestart-');
  content = join(dir, 'content');
});
afterAll(async () => {
  await closePrestarted();
  rmSync(dir, { recursive: true, force: true });
});

/** out/<edition>/manifest.json written at `at` (seconds), content files all at `contentAt`. */
function layout(out: string, at: number, contentAt: number) {
  mkdirSync(join(dir, out, 'daily-2025-12-10'), { recursive: true });
  const manifest = join(dir, out, 'daily-2025-12-10', 'manifest.json');
  writeFileSync(manifest, '{}');
  utimesSync(manifest, at, at);
  utimesSync(join(dir, ARTICLE), contentAt, contentAt);
}

describe('prestartBeside', () => {
  it('starts nothing without a built edition, or when no content changed since it was built', async () => {
    await prestartBeside({ out: join(dir, 'none'), content }, 'auto');
    expect(takePrestarted()).toBeUndefined();
    // Every content file older than the manifest (the copy's files are older than now).
    layout('out-a', Date.now() / 1000 + 60, Date.now() / 1000 - 60);
    await prestartBeside({ out: join(dir, 'out-a'), content }, 'auto');
    expect(takePrestarted()).toBeUndefined();
    await prestartBeside({ out: join(dir, 'out-a'), content }, 'auto', 'daily-2025-12-10');
    expect(takePrestarted()).toBeUndefined();
  });

  it('starts one worker when a content file is newer than the manifest; workers 0 starts none', async () => {
    layout('out-b', Date.now() / 1000 - 120, Date.now() / 1000);
    await prestartBeside({ out: join(dir, 'out-b'), content }, 0);
    expect(takePrestarted()).toBeUndefined();
    await prestartBeside({ out: join(dir, 'out-b'), content }, 'auto', 'daily-2025-12-10');
    const pool = await takePrestarted();
    expect(pool?.size).toBe(1);
    await pool!.close();
    // A named edition that was never built: nothing to rebuild.
    await prestartBeside({ out: join(dir, 'out-b'), content }, 'auto', 'daily-2025-12-11');
    expect(takePrestarted()).toBeUndefined();
  });

  it('closePrestarted closes a worker nothing took, and is a no-op without one', async () => {
    layout('out-c', Date.now() / 1000 - 120, Date.now() / 1000);
    await prestartBeside({ out: join(dir, 'out-c'), content }, 'auto');
    await closePrestarted();
    expect(takePrestarted()).toBeUndefined();
    await closePrestarted();
  });
});

describe('a rebuild draws in the prestarted worker', () => {
  it('the build takes it, draws the changed article in it, and leaves nothing running', async () => {
    const raw = loadConfig(join(dir, 'broadsheet.config.yaml')).config as unknown as Record<string, unknown>;
    raw.cards = { ...(raw.cards as object), formats: ['og', 'wechat'], kinds: ['article'] };
    const base = testContext({ root: dir, config: raw });
    const logs: { msg: string; obj: Record<string, unknown> }[] = [];
    const record = (o: unknown, m?: string) =>
      logs.push(
        typeof o === 'string' ? { msg: o, obj: {} } : { msg: m ?? '', obj: o as Record<string, unknown> },
      );
    Object.assign(base.logger, { info: record, warn: record, error: record, debug: () => {} });
    const ctx: Context = { ...base, paths: { ...base.paths, content, out: join(dir, 'out-d') } };
    await buildEdition({ ...ctx, config: { ...ctx.config, cards: { ...ctx.config.cards, workers: 0 } } });

    const file = join(dir, ARTICLE);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/^dek: "(.*)"$/m, 'dek: "$1（更新）"'));
    try {
      const later = Date.now() / 1000 + 5;
      utimesSync(file, later, later);
      await prestartBeside(ctx.paths, 'auto');
      logs.length = 0;
      const b = await buildEdition(ctx);
      expect(takePrestarted()).toBeUndefined(); // taken by startCards
      const drawn = logs.find((l) => l.msg === 'cards rendered')?.obj;
      expect(drawn).toMatchObject({ rendered: 2, workers: 1 });
      expect(b.manifest.failures).toEqual([]);
    } finally {
      writeFileSync(file, original);
    }
  });
});
