import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ensureDir, ensureDirSync, rethrowFsError } from './fs-errors.ts';

// Write to a temp file in the same folder, then rename over the target: a crash
// leaves either the old file or the new one, never half of either. The temp name
// starts with "." so globbing out/ never picks one up.
//
// This is the one write path for everything Broadsheet writes (digests, cards,
// manifests, outbox .eml, ingested articles, caches, the secret key): a
// read-only mount, a permission problem or a full disk is turned into its
// catalog error here (FS_READ_ONLY, FS_PERMISSION, FS_DISK_FULL) naming the
// path, and the temp file is removed first, so a failure leaves nothing behind.
export const tempFor = (file: string) =>
  join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await ensureDir(dirname(file));
  } catch (err) {
    rethrowFsError(err, file);
  }
  const tmp = tempFor(file);
  try {
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    rethrowFsError(err, file);
  }
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  try {
    ensureDirSync(dirname(file));
  } catch (err) {
    rethrowFsError(err, file);
  }
  const tmp = tempFor(file);
  try {
    writeFileSync(tmp, data, { flush: true });
    renameSync(tmp, file);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The original error is the one to report.
    }
    rethrowFsError(err, file);
  }
}
