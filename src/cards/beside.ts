import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { walk } from '../util/walk.ts';
import type { CardPool } from './pool.ts';

// The one worker thread a rebuild draws its few cards in, beside the digest
// (index.ts startCards), started as early as the `build` command can.
//
// The worker's own start (loading satori, resvg and sharp, parsing the fonts)
// is ~1.2 s of its thread. Started at the first card the plan finds to draw,
// it began ~0.7 s into a one-article rebuild of the sample (after the main
// thread had loaded the build's modules, read the content and planned half),
// and the build then waited for it at the end. `prestartBeside` starts it
// first thing, but only when a content file is newer than the last build's
// manifest: an unchanged rebuild, which draws nothing, must not pay for a
// worker it closes (on 2 cores it cost that rebuild ~0.3 s). This module
// stays light: the command imports it before the build's own modules.

let early: Promise<CardPool> | undefined;

/** The glyph store's folder (glyph-store.ts) for an out/ folder. */
export const glyphStoreDir = (outDir: string): string => join(outDir, '.cache', 'glyphs');

/** One worker thread, its fonts parsing and its glyph store (in `outDir`) read already. */
export async function besidePool(outDir: string): Promise<CardPool> {
  const { createCardPool } = await import('./pool.ts');
  const pool = createCardPool(1);
  pool.warm({ glyphs: glyphStoreDir(outDir) }).catch(() => {}); // a warm-up that fails costs nothing: the batch finds out itself
  return pool;
}

/**
 * Start the beside worker now if a rebuild with something to draw is likely:
 * out/ holds a built edition (`edition`'s, when the command names one) and
 * some file under `contentDir` changed after it was built. A build that turns
 * out to draw nothing, or a full edition (the pool's), closes it unused
 * (startCards); `closePrestarted` closes one nothing took.
 */
export async function prestartBeside(
  dirs: { out: string; content: string },
  workers: number | 'auto',
  edition?: string,
): Promise<void> {
  if (early || workers === 0) return;
  const built = lastBuilt(dirs.out, edition);
  if (built === undefined || !(await newerFile(dirs.content, built))) return;
  early = besidePool(dirs.out);
  early.catch(() => {}); // whoever takes it awaits it, and sees the failure there
}

const mtime = (file: string) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;

/** When the edition's manifest (or the newest one in out/) was written; undefined when there is none. */
function lastBuilt(outDir: string, edition: string | undefined): number | undefined {
  if (edition) return mtime(join(outDir, edition, 'manifest.json'));
  let newest: number | undefined;
  try {
    for (const d of readdirSync(outDir, { withFileTypes: true })) {
      const m = d.isDirectory() ? mtime(join(outDir, d.name, 'manifest.json')) : undefined;
      if (m !== undefined && (newest === undefined || m > newest)) newest = m;
    }
  } catch {
    return undefined;
  }
  return newest;
}

/** Whether anything under `dir` was modified after `since` (ms); an unreadable folder counts as unchanged. */
async function newerFile(dir: string, since: number): Promise<boolean> {
  const entries = await walk(dir).catch(() => []);
  return entries.some((e) => (mtime(join(e.parentPath, e.name)) ?? 0) > since);
}

/** The prestarted worker, once; undefined when none was started. */
export function takePrestarted(): Promise<CardPool> | undefined {
  const p = early;
  early = undefined;
  return p;
}

/** Close a beside worker that will not draw (one that failed to start has nothing to close). */
export async function closePool(p: Promise<CardPool> | undefined): Promise<void> {
  await (await p?.catch(() => undefined))?.close();
}

/** Close a prestarted worker nothing took (the build failed before its cards, say). */
export const closePrestarted = (): Promise<void> => closePool(takePrestarted());
