// STUB — the email stage replaces this with the real MailComposer outbox.
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import type { DigestResult } from '../email/index.ts';

export async function writeOutbox(
  _digest: DigestResult,
  _recipients: { email: string; name?: string; locale?: string; unsubscribeUrl: string; viewOnlineUrl: string }[],
  _opts: { dir: string; from: string; edition: Edition; ctx: Context },
): Promise<{ written: string[] }> {
  return { written: [] };
}
