import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem } from '../content/problems.ts';
import { readSubscribersCsv } from '../content/subscribers.ts';
import type { Context } from '../context.ts';
import { defaultTransport, deliver, formatSummary } from '../delivery/deliver.ts';
import type { SendSummary } from '../delivery/send.ts';
import { openStore, SubscriberRepo } from '../store/index.ts';
import type { BuildResult } from './build.ts';

/**
 * The digest job's delivery: the store-backed send of the edition just built,
 * through the job's transport, else smtp when SMTP_URL is set, else the outbox
 * (one .eml per reader in out/<edition>/outbox/ — what `npm start` does with
 * no SMTP and no env). Only for the outbox, and only on an empty store, is
 * content/subscribers.csv imported first: the sample readers must never reach
 * a real SMTP server. Running it again sends only what is left (the ledger).
 */
export async function deliverDigest(
  ctx: Context,
  b: BuildResult,
  opts: { transport?: string } = {},
): Promise<{ transport: string; summary?: SendSummary }> {
  const transport = opts.transport ?? defaultTransport(ctx);
  if (!b.digest) return { transport };
  if (transport === 'outbox') await importSampleOnce(ctx);
  const summary = await deliver(
    ctx,
    { editionId: b.edition.id, list: b.edition.name, listName: b.edition.title, digest: b.digest },
    { transport },
  );
  ctx.logger.info({ summary: { ...summary, ledger: undefined } }, formatSummary(summary));
  return { transport, summary };
}

async function importSampleOnce(ctx: Context) {
  const csv = join(ctx.paths.content, 'subscribers.csv');
  const db = openStore(ctx.paths.store);
  try {
    const repo = new SubscriberRepo(db, () => ctx.clock.now());
    if (repo.count() > 0) return;
    if (!existsSync(csv)) {
      ctx.logger.warn({ csv }, 'no subscribers in the store and no subscribers.csv: nothing to deliver');
      return;
    }
    const { rows, problems, warnings } = await readSubscribersCsv(csv);
    for (const p of [...problems, ...warnings]) ctx.logger.warn(formatProblem(p));
    const counts = repo.upsertMany(
      rows.map(({ line: _line, ...r }) => r),
      'import:content/subscribers.csv',
    );
    ctx.logger.info(
      { csv, ...counts },
      `imported ${counts.added} subscriber(s) from subscribers.csv into the empty store`,
    );
  } finally {
    db.close();
  }
}
