import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Context, isPgUrl } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';

/**
 * BROADSHEET_SECRET, or — so the embedded defaults work with no setup — a
 * random key created once next to the store (mode 0600). Production sets the
 * env var: a key on disk is only as safe as the folder it sits in.
 */
export function appSecret(ctx: Pick<Context, 'secrets' | 'paths' | 'logger'>): Buffer {
  if (ctx.secrets.secret) return Buffer.from(ctx.secrets.secret, 'utf8');
  // A shared PostgreSQL store means several hosts: each must sign and check
  // tokens with the same key, so it comes from the environment, never a file
  // one host made (issue 17).
  if (isPgUrl(ctx.paths.store)) throw new BroadsheetError('SECRET_REQUIRED', {});
  const file = join(dirname(ctx.paths.store), 'secret.key');
  if (!existsSync(file)) {
    writeFileAtomicSync(file, randomBytes(32).toString('base64url'));
    chmodSync(file, 0o600);
    ctx.logger.warn(
      { file },
      'BROADSHEET_SECRET is not set: created a random key; set BROADSHEET_SECRET in production',
    );
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
}
