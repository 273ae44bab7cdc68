import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Article } from '../content/model.ts';
import type { Context } from '../context.ts';
import type { DB } from '../store/db.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { Digestish, SendInput } from './send.ts';

// Topics shape the digest (issue 14). A reader's topics (sections or tags,
// chosen at signup or in the preference centre) put their stories first — or,
// with `editions.<name>.topics: filter`, keep only those, falling back to the
// whole edition when none match. The digest is compiled once per distinct topic
// set in the send (each in every locale variant, each under the size guard of
// renderDigest), never per reader: cost grows with the variants, not the readers.

export type TopicsMode = 'reorder' | 'filter';

/** One key per distinct set: order and repeats do not matter. */
export const topicKey = (topics: readonly string[]) => [...new Set(topics)].sort().join('\u001f');

const matches = (a: Article, topics: ReadonlySet<string>) =>
  topics.has(a.section) || a.tags.some((t) => topics.has(t));

/** The edition's ranked stories for a reader with these topics (stable: rank order within each group). */
export function storiesFor(
  articles: readonly Article[],
  topics: readonly string[],
  mode: TopicsMode,
): Article[] {
  const want = new Set(topics);
  const mine = articles.filter((a) => matches(a, want));
  if (mine.length === 0) return [...articles];
  return mode === 'filter' ? mine : [...mine, ...articles.filter((a) => !matches(a, want))];
}

export interface TopicDigests {
  /** The digest for a subscriber: their topic set's, else the edition's own. */
  digestFor(subscriberId: number): Digestish;
  /** Distinct topic variants compiled (besides the edition's own digest). */
  variants: number;
  /** Locale variants compiled over all topic variants. */
  compiled: number;
  /** Each compiled topic variant: its topic set, locales and the stories the size guard dropped. */
  built: BuiltVariant[];
}

export interface BuiltVariant {
  topics: string[];
  locales: string[];
  dropped: string[];
}

/**
 * out/<edition>/digest/variants.json: the topic variants the latest real send
 * built (the manifest stays build-only; a dry run writes nothing).
 */
export async function writeVariantsFile(ctx: Context, editionId: string, t: TopicDigests): Promise<void> {
  const body = {
    edition: editionId,
    sentAt: ctx.clock.now().toISOString(),
    count: t.variants,
    variants: t.built,
  };
  await writeFileAtomic(
    join(ctx.paths.out, editionId, 'digest', 'variants.json'),
    `${JSON.stringify(body, null, 2)}\n`,
  );
}

/** The distinct topic sets of active readers, each with how many readers chose it. */
export interface TopicSets {
  /** JSON text array as stored in subscribers.topics → readers with it. */
  sets: Map<string, number>;
}

/** What the variants compiled for some topic sets are: the digest per topic key, and what was built. */
export interface CompiledTopics {
  /** Every topic key seen → its digest (the edition's own when the story order is unchanged). */
  byKey: Map<string, Digestish>;
  compiled: number;
  built: BuiltVariant[];
}

/**
 * Compile one digest per distinct topic set whose story order differs from the
 * edition's (the store-independent part: SQLite's send and PostgreSQL's fan-out
 * both call it). Sets already in `known` are skipped.
 */
export async function compileTopicVariants(
  ctx: Context,
  input: SendInput,
  topicSets: Iterable<string>,
  opts: { dryRun?: boolean; known?: ReadonlySet<string> } = {},
): Promise<CompiledTopics> {
  const out: CompiledTopics = { byKey: new Map(), compiled: 0, built: [] };
  const todo = new Map<string, string[]>();
  for (const json of topicSets) {
    const topics = JSON.parse(json) as string[];
    const key = topicKey(topics);
    if (!topics.length || opts.known?.has(key) || todo.has(key)) continue;
    todo.set(key, topics);
  }
  if (todo.size === 0) return out;
  const [{ editionFromContent }, { renderDigest }] = await Promise.all([
    import('../jobs/edition.ts'),
    import('../email/index.ts'),
  ]);
  const { edition } = await editionFromContent(ctx, { id: input.editionId });
  if (edition.id !== input.editionId) return out;
  const mode: TopicsMode = ctx.config.editions[edition.name]?.topics ?? 'reorder';
  const sameOrder = (a: Article[]) =>
    a.length === edition.articles.length && a.every((x, i) => x === edition.articles[i]);
  // A dry run must leave out/ untouched: a variant's new lead gets its picture
  // made in a scratch folder (same public URLs and sizes), removed afterwards.
  const scratch = opts.dryRun ? await mkdtemp(join(tmpdir(), 'broadsheet-dry-run-')) : undefined;
  const digestDir = scratch ?? join(ctx.paths.out, edition.id, 'digest');
  try {
    for (const [key, topics] of todo) {
      const stories = storiesFor(edition.articles, topics, mode);
      if (sameOrder(stories)) {
        out.byKey.set(key, input.digest);
        continue;
      }
      // renderDigest applies the same worst-case merged size guard as build
      // (email.maxBytes; overflow drop → lowest-priority stories go, fail → DIGEST_TOO_LARGE).
      const digest = await renderDigest({ ...edition, articles: stories }, ctx, { digestDir });
      for (const w of digest.warnings)
        ctx.logger.warn({ edition: edition.id, topics: [...new Set(topics)].sort() }, w);
      out.compiled += Object.keys(digest.variants).length;
      out.byKey.set(key, digest);
      out.built.push({
        topics: [...new Set(topics)].sort(),
        locales: Object.keys(digest.variants),
        dropped: digest.dropped,
      });
    }
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
  return out;
}

/** Topic variants other than the edition's own digest. */
export const distinctVariants = (byKey: Map<string, Digestish>, own: Digestish) =>
  new Set([...byKey.values()].filter((d) => d !== own)).size;

/**
 * Compile the topic variants the active readers of this send need. A topic set
 * whose story order equals the edition's (no story matches, or they already lead)
 * uses the staged digest as it is.
 */
export async function topicDigests(
  ctx: Context,
  db: DB,
  input: SendInput,
  opts: { dryRun?: boolean } = {},
): Promise<TopicDigests> {
  const rows = db
    .prepare("SELECT id, topics FROM subscribers WHERE status = 'active' AND topics != '[]'")
    .all() as { id: number; topics: string }[];
  const own: TopicDigests = { digestFor: () => input.digest, variants: 0, compiled: 0, built: [] };
  if (rows.length === 0) return own;
  const c = await compileTopicVariants(
    ctx,
    input,
    rows.map((r) => r.topics),
    opts,
  );
  if (c.byKey.size === 0) return own;
  const byReader = new Map<number, string>();
  for (const r of rows) byReader.set(r.id, topicKey(JSON.parse(r.topics) as string[]));
  const distinct = distinctVariants(c.byKey, input.digest);
  ctx.logger.info(
    {
      edition: input.editionId,
      topicVariants: distinct,
      compiled: c.compiled,
      readersWithTopics: rows.length,
    },
    `digest: ${distinct} topic variant(s), ${c.compiled} compiled`,
  );
  return {
    digestFor: (id) => c.byKey.get(byReader.get(id) ?? '') ?? input.digest,
    variants: distinct,
    compiled: c.compiled,
    built: c.built,
  };
}
