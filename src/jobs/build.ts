import { join } from 'node:path';
import { fullGc } from '../cards/gc.ts';
import { startCards } from '../cards/index.ts';
import { displayPath } from '../content/problems.ts';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import { readDigestVariants, type StagedVariant, writeDigestVariants } from '../email/files.ts';
import type { DigestResult } from '../email/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { tuneMalloc } from '../util/malloc.ts';
import { type DigestRecord, digestInputHash, reusableDigest, stagedFiles } from './digest-cache.ts';
import { editionFromContent } from './edition.ts';
import { type Manifest, readManifest } from './manifest.ts';

export interface BuildResult {
  edition: Edition;
  dir: string;
  manifest: Manifest;
  digest: DigestResult | undefined;
  /** Content files that were reported and left out (the rest still built). */
  contentProblems: number;
}

/**
 * Build one edition into out/<edition-id>/: digest, cards, then the manifest
 * last, so a manifest on disk always describes files that are complete.
 */
export async function buildEdition(
  ctx: Context,
  opts: { id?: string; name?: string } = {},
): Promise<BuildResult> {
  const { logger } = ctx;
  const { edition, problems } = await editionFromContent(ctx, opts);
  const dir = join(ctx.paths.out, edition.id);
  logger.info(
    {
      edition: edition.id,
      articles: edition.articles.length,
      stats: edition.stats.length,
      out: displayPath(dir),
    },
    `building ${edition.id}`,
  );
  const previous = await readManifest(dir);

  // A few cards to draw (one article changed) are drawn in a worker thread
  // while this one compiles the digest (src/cards/index.ts startCards).
  const drawing = await startCards(edition, ctx, {
    editionDir: dir,
    previous: previous?.cards,
    beside: true,
  });
  let staged: Awaited<ReturnType<typeof stageDigest>>;
  try {
    staged = await stageDigest(ctx, edition, dir, previous);
  } catch (err) {
    // The worker's cards are written whole or not at all; it is let finish, not left running.
    if (drawing.beside) await drawing.done().catch(() => {});
    throw err;
  }
  const { digest, variants, record } = staged;
  const cards = await drawing.done();

  const manifest: Manifest = {
    version: 1,
    edition: {
      id: edition.id,
      name: edition.name,
      date: edition.date,
      timezone: edition.timezone,
      locale: edition.locale,
      title: edition.title,
      articles: edition.articles.map((a) => ({
        id: a.id,
        title: a.title,
        url: a.url,
        priority: a.priority ?? 0,
        sourcePath: a.sourcePath,
      })),
      stats: edition.stats.map((s) => ({ id: s.id, title: s.title, sourcePath: s.sourcePath })),
      leftOut: edition.leftOut,
    },
    generatedAt: ctx.clock.now().toISOString(),
    ...(digest && {
      digest: {
        subject: digest.subject,
        html: 'digest/index.html',
        text: 'digest/digest.txt',
        bytes: digest.bytes,
        dropped: digest.dropped,
        variants,
        ...record,
      },
    }),
    cards: cards.cards,
    contact: cards.contact,
    posts: cards.posts,
    failures: cards.failures,
  };
  await writeFileAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const result = { edition, dir, manifest, digest, contentProblems: problems };
  // The same line `build` and the jobs print: on a terminal it is shown once (cli/app.ts printResult).
  logger.info(
    {
      edition: edition.id,
      cards: manifest.cards.length,
      failures: manifest.failures.length,
      bytes: digest?.bytes,
    },
    buildSummary(result),
  );
  return result;
}

/** The one-line summary `build` and the build/digest jobs print. */
export const buildSummary = (b: BuildResult): string =>
  `built ${b.edition.id} → ${displayPath(b.dir)}/ (${b.edition.articles.length} articles, ${b.edition.stats.length} stat sets, ${b.manifest.cards.length} cards${b.digest ? `, digest ${b.digest.bytes} bytes` : ''})`;

/**
 * The digest staged under <dir>/digest/: kept from the last build when its
 * inputs are unchanged (src/jobs/digest-cache.ts; the email stage is not even
 * loaded), else compiled and written, with the cache record for next time.
 */
async function stageDigest(
  ctx: Context,
  edition: Edition,
  dir: string,
  previous: Manifest | undefined,
): Promise<{
  digest: DigestResult;
  variants: Record<string, StagedVariant>;
  record: Pick<DigestRecord, 'inputHash' | 'files' | 'warnings'>;
}> {
  const { logger } = ctx;
  const inputHash = digestInputHash(ctx, edition);
  const kept = reusableDigest(previous, inputHash, dir);
  const staged = kept && (await readDigestVariants(dir, kept.variants).catch(() => undefined));
  if (kept?.variants && staged) {
    const [own] = Object.values(staged);
    const warnings = kept.warnings ?? [];
    const digest: DigestResult = {
      ...own!,
      bytes: kept.bytes,
      dropped: kept.dropped,
      warnings,
      variants: staged,
    };
    for (const w of warnings) logger.warn({ edition: edition.id }, w);
    logger.info(
      { edition: edition.id, inputHash, bytes: kept.bytes },
      'digest: cached (inputs unchanged), not compiled',
    );
    return { digest, variants: kept.variants, record: { inputHash, files: kept.files, warnings } };
  }

  const started = performance.now();
  // Before the digest's native threads start (src/util/malloc.ts); not on a
  // cache hit, where nothing is drawn and loading the FFI would cost ~7 ms.
  tuneMalloc();
  const { renderDigest } = await import('../email/index.ts');
  const digest = await renderDigest(edition, ctx, { digestDir: join(dir, 'digest') });
  await writeFileAtomic(join(dir, 'digest', 'index.html'), digest.html);
  await writeFileAtomic(join(dir, 'digest', 'digest.txt'), digest.text);
  // The other locale variants (zh-Hans of a Hong Kong edition) in digest/<locale>/.
  const variants = await writeDigestVariants(digest, dir);
  // MJML's, the minifier's and the thumbnails' garbage goes before the cards
  // draw, rather than under their peak (~0.1 s; skipped on a cache hit).
  fullGc({ trim: true });
  for (const w of digest.warnings) logger.warn({ edition: edition.id }, w);
  if (digest.dropped.length)
    logger.warn(
      { dropped: digest.dropped },
      `digest over ${ctx.config.email.maxBytes} bytes: dropped ${digest.dropped.length} lowest-priority stor(ies)`,
    );
  logger.info(
    { edition: edition.id, inputHash, bytes: digest.bytes, ms: Math.round(performance.now() - started) },
    'digest: compiled',
  );
  return {
    digest,
    variants,
    record: { inputHash, files: stagedFiles(dir, variants), warnings: digest.warnings },
  };
}
