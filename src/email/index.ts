// The email digest stage: render once per edition (Liquid → MJML → minified
// HTML + plain text from the same data), keep it under the clip line, then
// merge per recipient with mergeRecipient().
import { join } from 'node:path';
import type { Article } from '../content/model.ts';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import { BroadsheetError } from '../errors/index.ts';
import { compileDigest, renderSubject } from './compile.ts';
import { charLength, hasCJK } from './format.ts';
import { toSimplified } from './locale.ts';
import { worstCaseBytes } from './merge.ts';
import { digestView } from './view.ts';

export { escapeHtml, MERGE_LIMITS, mergeRecipient, type Recipient, worstCaseBytes } from './merge.ts';

export interface DigestResult {
  subject: string;
  html: string;
  text: string;
  /** Bytes of the HTML part after a worst-case per-recipient merge. */
  bytes: number;
  /** Stories dropped to stay under email.maxBytes, by id. */
  dropped: string[];
  warnings: string[];
}

export interface RenderOptions {
  /** Override email.validation (tests pass 'strict'). */
  validation?: 'strict' | 'soft' | 'skip';
}

/**
 * Which story goes first when the digest is too big: the lowest priority
 * (missing = 0), and among equals the one ranked last. The lead never goes.
 */
export function dropOrder(articles: Article[]): Article[] {
  return articles
    .slice(1)
    .map((a, i) => ({ a, i }))
    .sort((x, y) => (x.a.priority ?? 0) - (y.a.priority ?? 0) || y.i - x.i)
    .map((x) => x.a);
}

/** Render the edition's digest once (compile once per edition; merge per recipient later). */
export async function renderDigest(
  edition: Edition,
  ctx: Context,
  opts: RenderOptions = {},
): Promise<DigestResult> {
  const { config, logger } = ctx;
  const email = config.email;
  const dir = join(ctx.paths.templates, email.templates);
  const validation = opts.validation ?? email.validation;
  const simplified = edition.locale === 'zh-Hans';

  let articles = [...edition.articles];
  const dropped: string[] = [];
  const order = dropOrder(articles);

  for (;;) {
    const view = digestView(edition, articles, config);
    const compiled = await compileDigest(dir, view, { validation });
    const subject = await renderSubject(email.subject, view);
    let out = { subject, html: compiled.html, text: compiled.text };
    if (simplified) out = toSimplified(out);
    const bytes = worstCaseBytes(out.html);

    if (bytes <= email.maxBytes) {
      const warnings = [...compiled.warnings];
      const limit = hasCJK(out.subject) ? email.subjectWarnAt : email.subjectWarnAt * 2;
      if (charLength(out.subject) > limit)
        warnings.push(
          `subject is ${charLength(out.subject)} characters, over ~${limit}: phones cut it off ("${out.subject}")`,
        );
      if (dropped.length) {
        warnings.push(
          `dropped ${dropped.length} lowest-priority stor${dropped.length === 1 ? 'y' : 'ies'} to stay under ${email.maxBytes} bytes: ${dropped.join(', ')}`,
        );
        logger.warn(
          { edition: edition.id, dropped, bytes, maxBytes: email.maxBytes },
          `digest over size limit: dropped ${dropped.length} lowest-priority stories`,
        );
      }
      logger.debug({ edition: edition.id, bytes, stories: articles.length }, 'digest rendered');
      return { ...out, bytes, dropped, warnings };
    }

    const victim = order.shift();
    if (email.overflow === 'fail' || !victim)
      throw new BroadsheetError('DIGEST_TOO_LARGE', {
        edition: edition.id,
        bytes,
        maxBytes: email.maxBytes,
        stories: articles.length,
      });
    dropped.push(victim.id);
    articles = articles.filter((a) => a !== victim);
  }
}
