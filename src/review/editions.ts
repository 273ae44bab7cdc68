import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Manifest, ManifestCard, ManifestPost } from '../jobs/manifest.ts';
import type { PostDecision, QueueRow } from '../store/review.ts';

// What the gallery shows: editions found as out/*/manifest.json, their items
// (stories, quotes, 數讀 boxes and single stats) with every card format, and
// one post per item × platform with its status from the store.

export type PostStatus = 'pending' | 'approved' | 'rejected' | 'published';
export const POST_STATUSES: PostStatus[] = ['pending', 'approved', 'rejected', 'published'];

/** Edition ids name folders: letters, digits, dot, dash, underscore; never "..". */
export const EDITION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const validEditionId = (id: string) => EDITION_ID.test(id) && !id.includes('..');

export interface EditionRef {
  id: string;
  dir: string;
  manifest: Manifest;
}

// Manifests are re-read only when the file changes (a rebuild while serving).
const cache = new Map<string, { mtimeMs: number; manifest: Manifest }>();

export function loadEdition(outDir: string, id: string): EditionRef | undefined {
  if (!validEditionId(id)) return undefined;
  const dir = resolve(outDir, id);
  const file = join(dir, 'manifest.json');
  if (!dir.startsWith(resolve(outDir) + sep) || !existsSync(file)) return undefined;
  try {
    const { mtimeMs } = statSync(file);
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === mtimeMs) return { id, dir, manifest: hit.manifest };
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (manifest?.edition?.id !== id || !Array.isArray(manifest.cards) || !Array.isArray(manifest.posts))
      return undefined;
    cache.set(file, { mtimeMs, manifest });
    return { id, dir, manifest };
  } catch {
    return undefined;
  }
}

export function listEditions(outDir: string): EditionRef[] {
  if (!existsSync(outDir)) return [];
  const out: EditionRef[] = [];
  for (const d of readdirSync(outDir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const e = loadEdition(outDir, d.name);
    if (e) out.push(e);
  }
  return out.sort(
    (a, b) => b.manifest.edition.date.localeCompare(a.manifest.edition.date) || a.id.localeCompare(b.id),
  );
}

/** A card's file, only through the manifest (never a path from the request). */
export function cardFile(e: EditionRef, card: ManifestCard): string | undefined {
  const file = resolve(e.dir, card.path);
  return file.startsWith(e.dir + sep) ? file : undefined;
}

export interface PostView {
  edition: string;
  itemId: string;
  platform: string;
  /** The text that would be published: the edited caption, else the generated one. */
  caption: string;
  generated: string;
  edited: boolean;
  limit: number;
  format: string;
  status: PostStatus;
  decision?: PostDecision;
  queue: QueueRow[];
}

export interface ItemView {
  id: string;
  kind: string;
  title: string;
  subtitle?: string;
  group: 'story' | 'stats';
  /** The article or stat set the item belongs to. */
  parent: string;
  url?: string;
  cards: ManifestCard[];
  posts: PostView[];
}

export function postStatus(d: PostDecision | undefined, queue: QueueRow[]): PostStatus {
  const open = queue.filter((q) => q.state !== 'cancelled');
  if (open.length && open.every((q) => q.state === 'published')) return 'published';
  return d?.status ?? 'pending';
}

/** The idempotency key of a post: a hash of everything a publisher sends. */
export function postKey(p: {
  edition: string;
  itemId: string;
  platform: string;
  format: string;
  caption: string;
  cardSha256: string;
}): string {
  return createHash('sha256')
    .update(JSON.stringify([p.edition, p.itemId, p.platform, p.format, p.caption, p.cardSha256]))
    .digest('hex')
    .slice(0, 40);
}

const firstLine = (s: string) => s.split('\n')[0]?.trim() ?? '';

export function items(
  e: EditionRef,
  decisions: PostDecision[],
  queue: QueueRow[],
  formats: Partial<Record<string, string>>,
): ItemView[] {
  const m = e.manifest;
  const articles = new Map(m.edition.articles.map((a) => [a.id, a]));
  const statSets = m.edition.stats;
  const byItem = new Map<string, ItemView>();
  const item = (id: string, kind: string): ItemView => {
    let it = byItem.get(id);
    if (!it) {
      const article = articles.get(id);
      // The item's parent is the longest id it extends (an article "china-ai" must not
      // claim the stat set "china-ai-2025"'s items); stats by kind when the kind says so.
      const longest = <T extends { id: string }>(xs: T[]) =>
        xs
          .filter((x) => id === x.id || id.startsWith(`${x.id}-`))
          .sort((a, b) => b.id.length - a.id.length)[0];
      const set = longest(statSets);
      const candidate = article ?? longest(m.edition.articles);
      const isStat =
        kind === 'stat' ||
        kind === 'statset' ||
        (!!set && (!candidate || set.id.length > candidate.id.length));
      const parentArticle = isStat ? undefined : candidate;
      it = {
        id,
        kind,
        title: article?.title ?? id,
        group: isStat ? 'stats' : 'story',
        parent: parentArticle?.id ?? set?.id ?? id,
        url: parentArticle?.url,
        cards: [],
        posts: [],
      };
      byItem.set(id, it);
    }
    return it;
  };
  for (const c of m.cards) item(c.itemId, c.kind).cards.push(c);
  const dec = new Map(decisions.map((d) => [`${d.itemId}\u0000${d.platform}`, d]));
  for (const p of m.posts as ManifestPost[]) {
    const it = item(p.itemId, byItem.get(p.itemId)?.kind ?? 'article');
    const d = dec.get(`${p.itemId}\u0000${p.platform}`);
    const q = queue.filter((r) => r.itemId === p.itemId && r.platform === p.platform);
    // The chosen format, else the configured one for the platform, else one named
    // like the platform (x), else the first — only formats this item has.
    const has = (f: string | null | undefined) => (f && it.cards.some((c) => c.format === f) ? f : undefined);
    const format = has(d?.format) ?? has(formats[p.platform]) ?? has(p.platform) ?? it.cards[0]?.format ?? '';
    it.posts.push({
      edition: e.id,
      itemId: p.itemId,
      platform: p.platform,
      caption: d?.caption ?? p.text,
      generated: p.text,
      edited: d?.caption != null,
      limit: p.limit,
      format,
      status: postStatus(d, q),
      decision: d,
      queue: q,
    });
  }
  // Titles for items that are not articles: the caption's headline line (數讀中國AI發展｜用戶規模大),
  // and for a single stat its figure line.
  for (const it of byItem.values()) {
    if (articles.has(it.id)) continue;
    const text = it.posts[0]?.generated ?? '';
    const lines = text
      .split('\n')
      .filter((l) => l.trim() && !/^https?:\/\//.test(l.trim()) && !l.startsWith('#'));
    it.title = firstLine(lines[0] ?? '') || it.id;
    if (lines[1]) it.subtitle = lines[1].trim();
    if (it.kind === 'quote' && articles.get(it.parent))
      it.subtitle = `引述｜${articles.get(it.parent)!.title}`;
  }
  return [...byItem.values()];
}

/** Card for a post: the chosen format, else the first card of the item. */
export const cardForPost = (it: { cards: ManifestCard[] }, p: { format: string }) =>
  it.cards.find((c) => c.format === p.format) ?? it.cards[0];
