import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem } from '../content/problems.ts';
import { readSubscribersCsv } from '../content/subscribers.ts';
import type { Context } from '../context.ts';
import { deliver, formatSummary } from '../delivery/deliver.ts';
import type { SendSummary } from '../delivery/send.ts';
import { openStore, SubscriberRepo } from '../store/index.ts';
import type { BuildResult } from './build.ts';

/**
 * The embedded default delivery (`npm start`): the store-backed send through
 * the outbox transport — one .eml per reader in out/<edition>/outbox/, no
 * SMTP, no env. On a fresh store, content/subscribers.csv is imported once
 * first; after that the store's list is the list (`broadsheet subscribers`).
 * Running it again sends only what is left (the ledger), so a re-run writes
 * nothing new.
 */
export async function deliverToOutbox(
  ctx: Context,
  b: BuildResult,
): Promise<{ written: number; dir: string; summary?: SendSummary }> {
  const dir = join(b.dir, 'outbox');
  if (!b.digest) return { written: 0, dir };
  await importSampleOnce(ctx);
  const summary = await deliver(
    ctx,
    { editionId: b.edition.id, list: b.edition.name, listName: b.edition.title, digest: b.digest },
    { transport: 'outbox' },
  );
  ctx.logger.info({ summary: { ...summary, ledger: undefined } }, formatSummary(summary));
  return { written: summary.sent, dir, summary };
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
    const { rows, problems } = await readSubscribersCsv(csv);
    for (const p of problems) ctx.logger.warn(formatProblem(p));
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
