import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';

/** Every entry below `dir`, recursively; a folder that does not exist has none. */
export async function walk(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
