// The email digest stage: render once per edition and locale variant (Liquid →
// MJML → minified HTML + plain text from the same data), keep it under the
// clip line, then merge per recipient with mergeRecipient().
import { join } from 'node:path';
import { linkPolicy } from '../analytics/links.ts';
import type { Article } from '../content/model.ts';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import { BroadsheetError } from '../errors/index.ts';
import { type Compiled, type CompileShare, compileDigest, renderSubject } from './compile.ts';
import { charLength } from './format.ts';
import { messagesFor, variantsOf } from './locales/index.ts';
import { worstCaseBytes } from './merge.ts';
import { makeThumbnails } from './thumbs.ts';
import { type DigestView, digestView, headlineData, type Thumb } from './view.ts';

export { messagesFor, variantFor, variantsOf } from './locales/index.ts';
export {
  type DigestVariant,
  escapeHtml,
  MERGE_LIMITS,
  mergeRecipient,
  type Recipient,
  worstCaseBytes,
} from './merge.ts';

import type { DigestVariant } from './merge.ts';

export interface DigestResult extends DigestVariant {
  /** Bytes of the HTML part after a worst-case per-recipient merge. */
  bytes: number;
  /** Stories dropped to stay under email.maxBytes, by id. */
  dropped: string[];
  warnings: string[];
  /** Every variant by locale, the edition's own first (it is also this object's subject/html/text). */
  variants: Record<string, DigestVariant>;
}

export interface RenderOptions {
  /** Override email.validation (tests pass 'strict'). */
  validation?: 'strict' | 'soft' | 'skip';
  /**
   * out/<edition>/digest when the digest is being staged: story thumbnails are
   * written there, and each variant also gets its archive page (archiveHtml).
   */
  digestDir?: string;
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

/** Subject and preheader of a view, from the configured or the locale's templates. */
export async function headlines(
  view: DigestView,
  ctx: Context,
): Promise<{ subject: string; preheader: string }> {
  const email = ctx.config.email;
  const m = messagesFor(view.locale);
  const data = headlineData(view, m, email.subjectWarnAt);
  const subject = await renderSubject(email.subject ?? m.subject, data);
  const pre = await renderSubject(email.preheader ?? m.preheader, data, 'email.preheader');
  const cps = [...pre.replace(/\u3000/g, m.cjk ? '\u3000' : ' ')];
  return { subject, preheader: cps.length <= 90 ? cps.join('') : `${cps.slice(0, 89).join('')}…` };
}

/** The warning `check` and `build` print for a subject phones cut off, or undefined. */
export function subjectWarning(subject: string, locale: string, warnAt: number): string | undefined {
  const limit = messagesFor(locale).cjk ? warnAt : warnAt * 2;
  const n = charLength(subject);
  return n > limit
    ? `subject is ${n} characters, over ~${limit} (email.subjectWarnAt): phones cut it off ("${subject}")`
    : undefined;
}

/**
 * The subject an edition's digest gets, and DIGEST_SUBJECT_LONG when phones
 * would cut it off — what `check` reports. Renders only the subject (no MJML).
 */
export async function subjectCheck(
  edition: Edition,
  ctx: Context,
): Promise<{ subject: string; warning?: BroadsheetError }> {
  const view = digestView(edition, edition.articles, ctx.config);
  const { subject } = await headlines(view, ctx);
  const limit = messagesFor(view.locale).cjk
    ? ctx.config.email.subjectWarnAt
    : ctx.config.email.subjectWarnAt * 2;
  const chars = charLength(subject);
  return chars > limit
    ? {
        subject,
        warning: new BroadsheetError('DIGEST_SUBJECT_LONG', { edition: edition.id, subject, chars, limit }),
      }
    : { subject };
}

/** What every page of one renderDigest is compiled with. */
interface PageRun {
  edition: Edition;
  ctx: Context;
  validation: 'strict' | 'soft' | 'skip';
  thumbs: ReadonlyMap<string, Thumb>;
  /** A page whose rendered templates match one compiled before reuses its MJML result. */
  share: CompileShare;
}

/**
 * One locale's page of `articles` (stats as given): its view, subject and
 * compiled HTML, with the text part unless `text` is false (an archive page
 * uses only its HTML).
 */
async function compilePage(
  run: PageRun,
  articles: Article[],
  locale: string,
  stats: 'compact' | 'full',
  text = true,
): Promise<{ view: DigestView; subject: string; compiled: Compiled }> {
  const { edition, ctx } = run;
  const config =
    stats === ctx.config.email.stats ? ctx.config : { ...ctx.config, email: { ...ctx.config.email, stats } };
  const view = digestView(edition, articles, config, locale, run.thumbs, linkPolicy(ctx, edition));
  const { subject, preheader } = await headlines(view, ctx);
  view.preheader = preheader;
  const dir = join(ctx.paths.templates, ctx.config.email.templates);
  const compiled = await compileDigest(dir, view, { validation: run.validation, share: run.share, text });
  return { view, subject, compiled };
}

async function compileVariant(
  run: PageRun,
  articles: Article[],
  locale: string,
): Promise<DigestVariant & { bytes: number; warnings: string[] }> {
  const { view, subject, compiled } = await compilePage(run, articles, locale, run.ctx.config.email.stats);
  const m = messagesFor(locale);
  return {
    locale: view.locale,
    subject,
    html: compiled.html,
    text: compiled.text,
    fromName: view.fromName,
    listName: view.listName,
    defaultName: view.defaultName,
    archivePath: m.archiveSuffix,
    bytes: worstCaseBytes(compiled.html),
    warnings: compiled.warnings,
  };
}

/** Render the edition's digest once per locale variant (merge per recipient later). */
export async function renderDigest(
  edition: Edition,
  ctx: Context,
  opts: RenderOptions = {},
): Promise<DigestResult> {
  const { config, logger } = ctx;
  const email = config.email;
  const validation = opts.validation ?? email.validation;
  const [own, ...others] = variantsOf(edition.locale);

  const { thumbs, warnings: thumbWarnings } = opts.digestDir
    ? await makeThumbnails(edition, ctx, opts.digestDir)
    : { thumbs: new Map<string, Thumb>(), warnings: [] };

  let articles = [...edition.articles];
  const dropped: string[] = [];
  const order = dropOrder(articles);

  const run: PageRun = { edition, ctx, validation, thumbs, share: new Map() };
  for (;;) {
    const main = await compileVariant(run, articles, own!);
    const bytes = main.bytes;

    if (bytes <= email.maxBytes) {
      const variants: Record<string, DigestVariant> = { [main.locale]: strip(main) };
      for (const l of others) variants[l] = strip(await compileVariant(run, articles, l));
      // The archive page (view online): the email with the whole 數讀 the compact email links to.
      if (opts.digestDir && email.stats === 'compact')
        for (const v of Object.values(variants))
          v.archiveHtml = (await compilePage(run, articles, v.locale, 'full', false)).compiled.html;
      const warnings = [...main.warnings, ...thumbWarnings];
      const long = subjectWarning(main.subject, main.locale, email.subjectWarnAt);
      if (long) warnings.push(long);
      if (dropped.length) {
        warnings.push(
          `dropped ${dropped.length} lowest-priority stor${dropped.length === 1 ? 'y' : 'ies'} to stay under ${email.maxBytes} bytes: ${dropped.join(', ')}`,
        );
        logger.warn(
          { edition: edition.id, dropped, bytes, maxBytes: email.maxBytes },
          `digest over size limit: dropped ${dropped.length} lowest-priority stories`,
        );
      }
      logger.debug(
        { edition: edition.id, bytes, stories: articles.length, variants: Object.keys(variants) },
        'digest rendered',
      );
      return { ...strip(main), bytes, dropped, warnings, variants };
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

const strip = ({ bytes: _b, warnings: _w, ...v }: DigestVariant & { bytes: number; warnings: string[] }) =>
  v as DigestVariant;
