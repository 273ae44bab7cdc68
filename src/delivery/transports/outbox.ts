import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDirSync, fsError } from '../../util/fs-errors.ts';
import type { Transport, TransportFactory } from '../transport.ts';

/** A file name for a recipient: the address, with anything but a safe set replaced. */
export const emlName = (recipient: string) =>
  `${recipient.toLowerCase().replace(/[^a-z0-9@._+-]/g, '_')}.eml`;

/**
 * One .eml per recipient in out/<edition>/outbox/ — the embedded default, no
 * SMTP needed. Atomic: the message is written and synced under a temp name,
 * commit() records it, then the rename publishes it.
 */
export const outbox: TransportFactory = ({ editionDir }): Transport => {
  const dir = join(editionDir, 'outbox');
  let made = false; // on first send: a dry run or an empty list leaves no folder behind
  return {
    name: 'outbox',
    async send(msg) {
      if (!made) {
        try {
          ensureDirSync(dir);
        } catch (err) {
          throw fsError(err, dir) ?? err;
        }
        made = true;
      }
      const file = join(dir, emlName(msg.recipient));
      const tmp = join(dir, `.${emlName(msg.recipient)}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        writeFileSync(tmp, msg.raw, { flush: true });
        await msg.commit();
        renameSync(tmp, file);
      } catch (err) {
        rmSync(tmp, { force: true });
        // A full disk or a read-only folder fails every message alike: a named
        // error (FS_DISK_FULL, …) stops the run instead of retrying each one.
        throw fsError(err, file) ?? err;
      }
      return {
        accepted: [msg.recipient],
        rejected: [],
        response: `written ${file}`,
        messageId: msg.messageId,
      };
    },
  };
};
