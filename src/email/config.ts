import { z } from 'zod';

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
    /** Liquid template for the subject; sees brand, edition, lead. */
    subject: z.string().min(1).default('{{ brand.name }}｜{{ edition.dateText }}：{{ lead.title }}'),
    /** Gmail clips HTML over 102 KB (102,400 bytes); keep a margin for merge fields. */
    maxBytes: z.number().int().positive().default(100_000),
    /** What to do when the digest is over maxBytes: drop lowest-priority stories, or fail. */
    overflow: z.enum(['drop', 'fail']).default('drop'),
    /** Folder of the digest templates, relative to paths.templates. */
    templates: z.string().min(1).default('email'),
    /** MJML validation of the rendered templates: strict fails the build on any MJML error. */
    validation: z.enum(['strict', 'soft', 'skip']).default('strict'),
    /** Greeting name for recipients without one (merge field `name`). */
    defaultName: z.string().min(1).max(40).default('讀者'),
    /** A CJK subject longer than this many characters is reported in `warnings` (~40 fit a phone). */
    subjectWarnAt: z.number().int().positive().default(40),
  })
  .prefault({});

export type EmailConfig = z.infer<typeof emailConfigSchema>;
