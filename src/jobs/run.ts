import type { z } from 'zod';
import type { jobSchema } from '../scheduler/config.ts';
import { displayPath } from '../content/problems.ts';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { buildEdition } from './build.ts';
import { deliverToOutbox } from './outbox.ts';

export type Job = z.infer<typeof jobSchema>;

export interface JobResult {
  job: string;
  kind: Job['kind'];
  ok: boolean;
  edition?: string;
  dir?: string;
  cards?: number;
  failures?: number;
  delivered?: number;
  summary: string;
}

/** One job, once. The scheduler (issue 6) wraps this in leases and run records. */
export async function runJob(ctx: Context, job: Job): Promise<JobResult> {
  switch (job.kind) {
    case 'build':
    case 'digest': {
      const b = await buildEdition(ctx, { name: job.edition });
      const base = {
        job: job.name,
        kind: job.kind,
        edition: b.edition.id,
        dir: b.dir,
        cards: b.manifest.cards.length,
        failures: b.manifest.failures.length,
      };
      let line = `built ${b.edition.id} → ${displayPath(b.dir)}/ (${b.edition.articles.length} articles, ${b.edition.stats.length} stat sets, ${b.manifest.cards.length} cards${b.digest ? `, digest ${b.digest.bytes} bytes` : ''})`;
      let delivered: number | undefined;
      if (job.kind === 'digest' && b.digest) {
        const d = await deliverToOutbox(ctx, b);
        delivered = d.written;
        line += `\ndelivered to outbox: ${d.written} message(s) → ${displayPath(d.dir)}/`;
      }
      const ok = b.manifest.failures.length === 0;
      return { ...base, ok, delivered, summary: line };
    }
    default:
      throw new BroadsheetError('JOB_KIND_UNAVAILABLE', { name: job.name, kind: job.kind });
  }
}
