import { z } from 'zod';
import { EMAIL_LOCALES } from '../email/locales/types.ts';
import { DEFAULT_JOBS, jobSchema } from '../scheduler/config.ts';
import { timeZone } from './zone.ts';

// The fields of broadsheet.config.yaml defined here (the top-level ones and
// the small brand / paths / editions / jobs sections) and the order of every
// field. The other sections (email, cards, delivery, …) are defined by their
// stage (src/<stage>/config.ts) and loaded one by one (sections.ts): a start
// that validates a file builds only the sections the file has (fast.ts).
// schema.ts puts the whole file together from both.

const hex = z.string().regex(/^#[0-9a-fA-F]{6}$/, { message: 'must be a colour like #a4161a' });

export const brandSchema = z
  .strictObject({
    name: z.string().min(1).default('大公報'),
    url: z.url({ protocol: /^https?$/ }).default('https://news.example.com/'),
    address: z.string().default('香港仔田灣海旁道7號興偉中心3樓'),
    colors: z
      .strictObject({
        primary: hex.default('#a4161a'),
        ink: hex.default('#1a1a1a'),
        muted: hex.default('#5c5c5c'),
        paper: hex.default('#ffffff'),
        accent: hex.default('#c8102e'),
      })
      .prefault({}),
  })
  .prefault({});

export const editionConfigSchema = z.strictObject({
  /** daily: the articles of one calendar day in `timezone`. */
  kind: z.literal('daily').default('daily'),
  title: z.string().min(1).default('每日簡報'),
  maxArticles: z.number().int().min(1).max(50).default(10),
  timezone: timeZone.optional(),
  locale: z.enum(EMAIL_LOCALES).optional(),
  /** Readers' topics: put their stories first (reorder, the default) or send only those (filter; all when none match). */
  topics: z.enum(['reorder', 'filter']).optional(),
});

/** The fields defined here, in file order. */
export const topShape = {
  timezone: timeZone.default('Asia/Hong_Kong'),
  /** zh-Hant-HK, zh-Hans, en-GB or en-US: picks the digest's message catalog (src/email/locales/). */
  locale: z.enum(EMAIL_LOCALES).default('zh-Hant-HK'),
  /** Base URL for unsubscribe, archive and card links; env BROADSHEET_PUBLIC_URL wins. */
  publicUrl: z.url({ protocol: /^https?$/ }).default('https://news.example.com/broadsheet/'),
  brand: brandSchema,
  paths: z
    .strictObject({
      content: z.string().default('content'),
      out: z.string().default('out'),
      store: z.string().default('data/broadsheet.db'),
      templates: z.string().default('templates'),
    })
    .prefault({}),
  editions: z
    .record(z.string().regex(/^[a-z][a-z0-9_]*$/), editionConfigSchema)
    .default({ daily: { kind: 'daily', title: '每日簡報', maxArticles: 10 } }),
  jobs: z.array(jobSchema).prefault(DEFAULT_JOBS),
};

/** Every field of the file, in the order of the validated config's keys. */
export const CONFIG_KEYS = [
  'timezone',
  'locale',
  'publicUrl',
  'brand',
  'paths',
  'editions',
  'email',
  'cards',
  'delivery',
  'review',
  'subscribers',
  'store',
  'worker',
  'ops',
  'jobs',
  'inbound',
  'webhooks',
  'analytics',
] as const;

/** The sections defined by their stage (sections.ts loads each one; its Record type lists them all). */
export type SectionKey = Exclude<(typeof CONFIG_KEYS)[number], keyof typeof topShape>;

/** The checks across fields, run on the validated file (schema.ts's superRefine, and fast.ts). */
export function crossFieldIssues(c: {
  jobs: readonly { edition?: string | undefined }[];
  editions: Record<string, unknown>;
}): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  c.jobs.forEach((j, i) => {
    if (j.edition && !(j.edition in c.editions))
      out.push({ path: ['jobs', i, 'edition'], message: `unknown edition "${j.edition}"` });
  });
  return out;
}
