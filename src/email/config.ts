import { z } from 'zod';

// The `email:` section of broadsheet.config.yaml (owned by the email stage).
export const emailConfigSchema = z
  .strictObject({
    from: z.string().min(3).default('大公報每日簡報 <digest@news.example.com>'),
    replyTo: z.string().optional(),
    /** Liquid template for the subject; sees brand, edition, lead. */
    subject: z.string().min(1).default('{{ brand.name }}｜{{ edition.dateText }}：{{ lead.title }}'),
    /** Gmail clips HTML over 102 KB (102,400 bytes); keep a margin for merge fields. */
    maxBytes: z.number().int().positive().default(100_000),
    /** What to do when the digest is over maxBytes: drop lowest-priority stories, or fail. */
    overflow: z.enum(['drop', 'fail']).default('drop'),
  })
  .prefault({});

export type EmailConfig = z.infer<typeof emailConfigSchema>;
