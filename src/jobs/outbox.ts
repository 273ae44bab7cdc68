import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appSecret } from '../config/secret.ts';
import { formatProblem } from '../content/problems.ts';
import { readSubscribersCsv } from '../content/subscribers.ts';
import type { Context } from '../context.ts';
import { writeOutbox } from '../delivery/outbox.ts';
import { unsubscribeToken, unsubscribeUrl } from '../delivery/unsubscribe.ts';
import type { BuildResult } from './build.ts';

/**
 * The embedded default delivery: one .eml per reader of content/subscribers.csv
 * into out/<edition>/outbox/. The store-backed `broadsheet send` (delivery
 * issue) replaces the CSV with the subscribers table and the send ledger.
 */
export async function deliverToOutbox(
  ctx: Context,
  b: BuildResult,
): Promise<{ written: number; dir: string }> {
  const dir = join(b.dir, 'outbox');
  const csv = join(ctx.paths.content, 'subscribers.csv');
  if (!b.digest || !existsSync(csv)) {
    ctx.logger.warn({ csv }, 'no subscribers.csv: nothing delivered');
    return { written: 0, dir };
  }
  const { rows, problems } = await readSubscribersCsv(csv);
  for (const p of problems) ctx.logger.warn(formatProblem(p));
  const secret = appSecret(ctx);
  const list = b.edition.name;
  const viewOnlineUrl = new URL(`archive/${b.edition.id}`, ctx.config.publicUrl).href;
  const recipients = rows.map((r) => ({
    email: r.email,
    name: r.name,
    locale: r.locale,
    unsubscribeUrl: unsubscribeUrl(ctx.config.publicUrl, unsubscribeToken(secret, list, r.email)),
    viewOnlineUrl,
  }));
  const { written } = await writeOutbox(b.digest, recipients, {
    dir,
    from: ctx.config.email.from,
    edition: b.edition,
    ctx,
  });
  return { written: written.length, dir };
}
