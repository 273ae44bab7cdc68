import { existsSync, mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BroadsheetError } from '../errors/index.ts';
import { displayPath } from './paths.ts';

// The file-system faults an operator can fix (a read-only mount, a folder the
// service user cannot write, a full disk) become catalog errors that name the
// path and say what to do. Mapped once here and used by the one write path
// (util/atomic.ts) and the store opening (store/db.ts), not per caller.

const READ_ONLY = new Set(['EROFS']);
const PERMISSION = new Set(['EACCES', 'EPERM']);
const FULL = new Set(['ENOSPC', 'EDQUOT']);

export const errnoOf = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** The nearest folder of `path` that exists: the one whose mount or mode is the problem. */
export function nearestFolder(path: string): string {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * Turn a Node file-system error about `path` into the catalog error for it, or
 * return undefined when it is not one of the operator-fixable kinds.
 */
export function fsError(err: unknown, path: string): BroadsheetError | undefined {
  const errno = errnoOf(err);
  if (!errno) return undefined;
  const params = { path: displayPath(path), dir: displayPath(nearestFolder(path)) };
  if (READ_ONLY.has(errno)) return new BroadsheetError('FS_READ_ONLY', params, { cause: err });
  if (PERMISSION.has(errno))
    return new BroadsheetError('FS_PERMISSION', { ...params, errno }, { cause: err });
  if (FULL.has(errno)) return new BroadsheetError('FS_DISK_FULL', { ...params, errno }, { cause: err });
  return undefined;
}

/** Rethrow `err` as its catalog error when it has one. */
export function rethrowFsError(err: unknown, path: string): never {
  throw fsError(err, path) ?? err;
}

// Node 20's recursive mkdir reports ENOENT when the real cause is EROFS (a
// read-only mount) or EACCES: create the missing folders one by one then, so
// the error names what actually went wrong.
const missingFolders = (dir: string) => {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  return missing;
};

/** mkdir -p whose error carries the real errno. */
export function ensureDirSync(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
    for (const d of missingFolders(dir)) mkdirSync(d);
  }
}

/** mkdir -p whose error carries the real errno. */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
    for (const d of missingFolders(dir)) await mkdir(d);
  }
}
