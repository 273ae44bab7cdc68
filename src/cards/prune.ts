import { rm, rmdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { walk } from '../util/walk.ts';

/**
 * Remove what an earlier build left under `<editionDir>/cards/` that this build
 * no longer makes: a story dropped from the edition, a format or platform taken
 * out of the config, a temp file from a crash. Without this the folder (and any
 * tool that globs it) keeps showing cards the manifest no longer lists.
 * `keep` holds paths relative to the edition folder (`cards/<item>/<file>`).
 */
export async function pruneStaleCards(editionDir: string, keep: ReadonlySet<string>): Promise<string[]> {
  const root = join(editionDir, 'cards');
  const entries = await walk(root);
  const removed: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const rel = relative(editionDir, join(e.parentPath, e.name)).split(sep).join('/');
    if (keep.has(rel)) continue;
    await rm(join(e.parentPath, e.name), { force: true });
    removed.push(rel);
  }
  // Then the item folders left empty (deepest first).
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name));
  for (const d of dirs.sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => {});
  return removed;
}
