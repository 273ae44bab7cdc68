import { z } from 'zod';

export const DEFAULT_NAME = '讀者';

// The `email:` section of broadsheet.config.yaml (owned by the email stage).
export const emailConfigSchema = z
  .strictObject({
    /**
     * Sender, `Name <address>`. Default: derived from brand.name, the first
     * edition's title and publicUrl's host (src/config/identity.ts), e.g.
     * 大公報每日簡報 <digest@news.example.com>.
     */
    from: z.string().min(3).optional(),
    replyTo: z.string().optional(),
    /**
     * Liquid template for the subject; sees lead, second (the next story, set
     * only when both headlines fit subjectWarnAt), stories, brand, edition.
     * Default: the locale's (src/email/locales/): the lead headline, then the
     * second if it fits — no brand or date, the inbox shows those already.
     */
    subject: z.string().min(1).optional(),
    /** Liquid template for the inbox preview line; sees `more` (headlines not in the subject) too. */
    preheader: z.string().min(1).optional(),
    /** Gmail clips HTML over 102 KB (102,400 bytes); keep a margin for merge fields. */
    maxBytes: z.number().int().positive().default(100_000),
    /** What to do when the digest is over maxBytes: drop lowest-priority stories, or fail. */
    overflow: z.enum(['drop', 'fail']).default('drop'),
    /** Folder of the digest templates, relative to paths.templates. */
    templates: z.string().min(1).default('email'),
    /** MJML validation of the rendered templates: strict fails the build on any MJML error. */
    validation: z.enum(['strict', 'soft', 'skip']).default('strict'),
    /**
     * Greeting name for recipients without one (merge field `name`). Left at
     * the default, each variant uses its catalog's word (读者, reader).
     */
    defaultName: z.string().min(1).max(40).default(DEFAULT_NAME),
    /** A subject longer than this many visible characters (twice as many for Latin text) is warned about. */
    subjectWarnAt: z.number().int().positive().default(40),
    /** Section order for the stories after the lead; sections not listed follow in rank order. */
    sections: z.array(z.string().min(1)).default([]),
    /** Show "約3分鐘" reading time on stories (from the article body). */
    readingTime: z.boolean().default(false),
    /** 數讀 in the email: compact (each set's headline figures, a link to the rest) or full. */
    stats: z.enum(['compact', 'full']).default('compact'),
    /** Compact 數讀: at most this many figures per stat set (the first of each group). */
    statsMax: z.number().int().min(1).max(12).default(3),
    /**
     * Story thumbnails, resized at build into out/<edition>/digest/images/:
     * local = from images in the content folder; fetch = also download
     * http(s) images (5 s each; a failure only drops that thumbnail); off.
     */
    thumbnails: z.enum(['off', 'local', 'fetch']).default('local'),
    /** UTM parameters on every article link (campaign default: the edition id). */
    utm: z
      .strictObject({
        enabled: z.boolean().default(true),
        source: z.string().min(1).default('newsletter'),
        medium: z.string().min(1).default('email'),
        campaign: z.string().min(1).optional(),
      })
      .prefault({}),
  })
  .prefault({});

export type EmailConfig = z.infer<typeof emailConfigSchema>;
