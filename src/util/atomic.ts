import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// Write to a temp file in the same folder, then rename over the target: a crash
// leaves either the old file or the new one, never half of either. The temp name
// starts with "." so globbing out/ never picks one up.
const tempFor = (file: string) =>
  join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = tempFor(file);
  try {
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = tempFor(file);
  try {
    writeFileSync(tmp, data, { flush: true });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
