import type { CaptionParts } from './types.ts';

// What the platforms that keep line breaks share (X, Threads, Facebook, LinkedIn,
// Instagram): blocks separated by one empty line, figures one per line, no
// trailing spaces (Instagram drops a line break that follows a space).

export const chars = (s: string) => [...s].length;

/** A tag's letters and digits only; a bare number is no topic. */
export function tagText(tag: string): string | undefined {
  const t = tag.replace(/[^\p{L}\p{N}\p{M}_]/gu, '');
  if (!t || /^[\p{N}_]+$/u.test(t)) return undefined;
  return t;
}

export const headline = (p: CaptionParts) => (p.kicker && p.title ? `【${p.kicker}】${p.title}` : p.title);

/** The blocks of a caption in reading order, empty ones left out. */
export function blocks(p: CaptionParts, link: string, tagsSep = ' '): string {
  // A quote card leads with the quote; its story follows.
  const text = p.quote ? [p.quote, headline(p)] : [headline(p)];
  return [...text, p.body, p.lines.join('\n'), link, p.tags.join(tagsSep)]
    .map((b) => b.replace(/[ \t]+$/gmu, '').trim())
    .filter(Boolean)
    .join('\n\n');
}
