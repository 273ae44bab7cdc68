// The content model. Field names are a contract (DESIGN.md § Content model):
// docs, tests and outside tools rely on them. Validated once at the edge;
// later stages take Article / StatSet, never unknown.
import { z } from 'zod';
import { block, httpUrl, isoDate, isoDateTime, line, slugId } from './text.ts';

export const LIMITS = { title: 200, kicker: 40, dek: 600, short: 120, body: 100_000, quote: 600 } as const;

export const imageSchema = z.strictObject({
  /** An https URL, or a path relative to the content folder (images/x.jpg); the loader refuses http. */
  src: z.string().trim().min(1).max(2048),
  alt: line(300),
  credit: line(LIMITS.short).optional(),
  /** The point cards crop around, as fractions of width and height (0–1); else sharp's attention strategy. */
  focus: z.strictObject({ x: z.number().min(0).max(1), y: z.number().min(0).max(1) }).optional(),
});

/** The speaker's picture on quote cards: the same source rules as `image` (https URL or local file), cropped square. */
export const portraitSchema = z.strictObject({
  src: z.string().trim().min(1).max(2048),
  alt: line(300),
  credit: line(LIMITS.short).optional(),
  focus: imageSchema.shape.focus,
});

export const quoteSchema = z.strictObject({
  text: block(LIMITS.quote).pipe(z.string().trim().min(1, { message: 'must not be empty' })),
  by: line(LIMITS.short),
  role: line(LIMITS.short),
  portrait: portraitSchema.optional(),
});

/** A single string where a list is expected is a list of one (authors: 郭瀚林). */
const list = <T extends z.ZodType>(item: T, max: number) =>
  z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item).max(max));

/** Numeric ids from a CMS (id: 1234567) are ids too. */
const id = z.preprocess((v) => (typeof v === 'number' && Number.isInteger(v) ? String(v) : v), slugId);

// Articles ignore unknown fields (CMS exports carry extras such as updatedAt);
// a likely misspelling of a known field is reported by the loader instead.
export const articleFrontMatterSchema = z.object({
  id,
  title: line(LIMITS.title),
  kicker: line(LIMITS.kicker).optional(),
  dek: line(LIMITS.dek),
  section: line(LIMITS.short),
  tags: list(line(60), 30).default([]),
  authors: list(line(LIMITS.short), 20).default([]),
  source: line(LIMITS.short),
  publishedAt: isoDateTime,
  url: httpUrl,
  image: imageSchema.optional(),
  series: line(LIMITS.short).optional(),
  quote: quoteSchema.optional(),
  priority: z.number().int().min(0).max(100).optional(),
});

export type ArticleFrontMatter = z.infer<typeof articleFrontMatterSchema>;

export interface Article extends ArticleFrontMatter {
  /** Markdown body, possibly empty. Rendered as text, never as a template. */
  body: string;
  /** Where it came from, relative to the content folder (for messages and hashes). */
  sourcePath: string;
}

export const changeSchema = z.strictObject({
  value: z.number().finite(),
  unit: line(20),
  versus: line(LIMITS.short),
});

export const statSchema = z.strictObject({
  value: z.number().finite(),
  unit: line(20),
  label: line(LIMITS.short),
  period: line(60).optional(),
  display: line(40).optional(),
  change: changeSchema.optional(),
  /** The figure a chart highlights (at most one per group; or the group's `highlight: <n>`). */
  highlight: z.boolean().optional(),
});

export const statGroupSchema = z
  .strictObject({
    heading: line(60),
    stats: z.array(statSchema).min(1, { message: 'a group needs at least one stat' }).max(12),
    /** Which figure a chart highlights, counted from 1 (the same as a stat's `highlight: true`). */
    highlight: z.number().int().min(1).optional(),
  })
  .superRefine((g, ctx) => {
    const marked = g.stats.flatMap((s, i) => (s.highlight ? [i] : []));
    if (marked.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['stats', marked[1]!, 'highlight'],
        message: 'only one figure per group can be highlighted',
      });
    if (g.highlight !== undefined && g.highlight > g.stats.length)
      ctx.addIssue({
        code: 'custom',
        path: ['highlight'],
        message: `the group has ${g.stats.length} figure(s); highlight counts from 1`,
      });
    else if (g.highlight !== undefined && marked.length && marked[0] !== g.highlight - 1)
      ctx.addIssue({
        code: 'custom',
        path: ['highlight'],
        message: 'names a different figure than the stat marked highlight: true',
      });
  });

export const statSetSchema = z
  .strictObject({
    id,
    title: line(LIMITS.title),
    date: isoDate,
    credit: line(LIMITS.short),
    /** Where captions of this set link: its own page… */
    url: httpUrl.optional(),
    /** …or the id of the story it belongs to. Neither: the edition's archive page. */
    article: id.optional(),
    /** Hashtag topics for its captions (else the linked story's tags). */
    tags: list(line(60), 30).optional(),
    groups: z.array(statGroupSchema).min(1, { message: 'a stat set needs at least one group' }).max(12),
  })
  .superRefine((s, ctx) => {
    if (s.url && s.article)
      ctx.addIssue({ code: 'custom', path: ['article'], message: 'give either url or article, not both' });
  });

export type Stat = z.infer<typeof statSchema>;
export type StatGroup = z.infer<typeof statGroupSchema>;
export interface StatSet extends z.infer<typeof statSetSchema> {
  sourcePath: string;
}

/** The figure a group's chart highlights (0-based), if the writer named one; else the layout's rule applies. */
export function highlightIndex(g: StatGroup): number | undefined {
  if (g.highlight !== undefined) return g.highlight - 1;
  const i = g.stats.findIndex((s) => s.highlight);
  return i >= 0 ? i : undefined;
}
