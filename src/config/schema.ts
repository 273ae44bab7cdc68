import { z } from 'zod';
import { analyticsConfigSchema } from '../analytics/config.ts';
import { cardsConfigSchema } from '../cards/config.ts';
import { deliveryConfigSchema } from '../delivery/config.ts';
import { emailConfigSchema } from '../email/config.ts';
import { EMAIL_LOCALES } from '../email/locales/types.ts';
import { workerConfigSchema } from '../fanout/config.ts';
import { inboundConfigSchema } from '../inbound/config.ts';
import { opsConfigSchema } from '../ops/config.ts';
import { reviewConfigSchema } from '../review/config.ts';
import { subscribersConfigSchema } from '../review/signup-config.ts';
import { DEFAULT_JOBS, jobSchema } from '../scheduler/config.ts';
import { storeConfigSchema } from '../store/config.ts';
import { webhooksConfigSchema } from '../webhooks/config.ts';
import { withSenderIdentity } from './identity.ts';
import { timeZone } from './zone.ts';

// broadsheet.config.yaml. Every field has a default so the embedded defaults
// run with no file at all. Secrets never live here: they come from env only
// (see env.ts), and a secret-looking key in the file is rejected.

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

const configObject = z
  .strictObject({
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
    email: emailConfigSchema,
    cards: cardsConfigSchema,
    delivery: deliveryConfigSchema,
    review: reviewConfigSchema,
    subscribers: subscribersConfigSchema,
    store: storeConfigSchema,
    worker: workerConfigSchema,
    ops: opsConfigSchema,
    jobs: z.array(jobSchema).prefault(DEFAULT_JOBS),
    inbound: inboundConfigSchema,
    webhooks: webhooksConfigSchema,
    analytics: analyticsConfigSchema,
  })
  .superRefine((c, ctx) => {
    c.jobs.forEach((j, i) => {
      if (j.edition && !(j.edition in c.editions))
        ctx.addIssue({
          code: 'custom',
          path: ['jobs', i, 'edition'],
          message: `unknown edition "${j.edition}"`,
        });
    });
  });

/** The fields of the file, for code that needs one field's schema. */
export const configShape = configObject.shape;

/** The whole file, validated; the sender identity filled in from brand and publicUrl where left out. */
export const configSchema = configObject.transform(withSenderIdentity);

export type Config = z.infer<typeof configSchema>;
export type EditionConfig = z.infer<typeof editionConfigSchema>;
