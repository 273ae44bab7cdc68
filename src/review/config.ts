import { z } from 'zod';
import { CARD_FORMATS, PLATFORMS } from '../cards/config.ts';

// The `review:` section of broadsheet.config.yaml: the editors' app (`serve`)
// and the publish queue (`publish`, scheduler job kind publish).

export const PUBLISHER_NAMES = ['folder', 'webhook'] as const;
export type PublisherName = (typeof PUBLISHER_NAMES)[number];
/** Social platforms (src/review/publishers/<name>.ts): offered when their credentials are in the environment. */
export const SOCIAL_NAMES = [
  'bluesky',
  'mastodon',
  'x',
  'threads',
  'facebook',
  'instagram',
  'linkedin',
] as const;
export type SocialName = (typeof SOCIAL_NAMES)[number];
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day, HH:MM');
const slots = z.array(clock).default(['08:30', '12:30', '18:30']);

const format = z.enum(CARD_FORMATS);
const platform = z.enum(PLATFORMS);

export const reviewConfigSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** Which card format goes with a post on each platform (the editor sees them all). */
    formats: z
      .strictObject({
        x: format.default('x'),
        threads: format.default('portrait'),
        facebook: format.default('og'),
        instagram: format.default('portrait'),
        linkedin: format.default('og'),
        weibo: format.default('square'),
      } satisfies Record<(typeof PLATFORMS)[number], unknown>)
      .prefault({}),
    /** Where approved posts go, in this order; each publishes a post once. */
    publishers: z.array(z.enum(PUBLISHER_NAMES)).default(['folder']),
    folder: z
      .strictObject({
        /** Relative to the out/ folder unless absolute. */
        dir: z.string().min(1).default('publish'),
      })
      .prefault({}),
    webhook: z
      .strictObject({
        url: z.url({ protocol: /^https?$/ }).optional(),
        timeoutMs: z.number().int().min(100).default(15_000),
        /** Attempts within one run; a post still failing waits for the next run. */
        attempts: z.number().int().min(1).max(20).default(4),
        backoffMs: z.number().int().min(0).default(1_000),
        /** Send the PNG inside the JSON body (base64); off: only its sha256 and size. */
        includeImage: z.boolean().default(true),
      })
      .prefault({}),
    /**
     * Social platforms (issue 18). captionFrom: which platform's approved caption
     * and card each one posts (Bluesky and Mastodon have no caption of their own).
     * times: posting times per platform, in the config's timezone, for "next free slot".
     */
    social: z
      .strictObject({
        captionFrom: z
          .strictObject({
            bluesky: platform.default('x'),
            mastodon: platform.default('threads'),
            x: platform.default('x'),
            threads: platform.default('threads'),
            facebook: platform.default('facebook'),
            instagram: platform.default('instagram'),
            linkedin: platform.default('linkedin'),
          } satisfies Record<SocialName, unknown>)
          .prefault({}),
        times: z
          .strictObject(
            Object.fromEntries(SOCIAL_NAMES.map((n) => [n, slots])) as Record<SocialName, typeof slots>,
          )
          .prefault({}),
        /** Days ahead "next free slot" looks before giving up. */
        slotDays: z.number().int().min(1).max(60).default(14),
        /** Each API call's limit; a post call cut off by it is looked for before any retry. */
        timeoutMs: z.number().int().min(100).default(30_000),
        /** Attempts within one run; a post still failing waits for the next run. */
        attempts: z.number().int().min(1).max(10).default(3),
        /** A rate limit that resets later than this defers the post to the next run instead of waiting. */
        maxWaitMs: z.number().int().min(0).default(120_000),
        /** Language of the posts (ISO 639-1), told to Bluesky, Mastodon and X's readers' filters. */
        language: z.string().min(2).max(8).default('zh'),
        mastodon: z
          .strictObject({
            visibility: z.enum(['public', 'unlisted', 'private']).default('public'),
          })
          .prefault({}),
      })
      .prefault({}),
    /** Attempts after which a post is marked failed and left for an editor. */
    maxAttempts: z.number().int().min(1).default(12),
    /**
     * Behind a reverse proxy: take the client address for the sign-in rate
     * limit from the last X-Forwarded-For entry (the one the proxy added).
     * Off by default: a client could otherwise name any address it likes.
     */
    trustProxy: z.boolean().default(false),
    session: z
      .strictObject({
        hours: z
          .number()
          .min(0.1)
          .max(24 * 30)
          .default(12),
      })
      .prefault({}),
    /**
     * Every POST (sign-in, decisions, publish, one-click unsubscribe) is refused
     * with 413 past bodyBytes — a declared Content-Length before anything is
     * read, a chunked body as soon as it passes the limit. requestTimeoutMs
     * bounds receiving a whole request (headers and body; 408 and the
     * connection closed past it), headersTimeoutMs the headers alone.
     */
    limits: z
      .strictObject({
        bodyBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(64 * 1024),
        requestTimeoutMs: z.number().int().min(100).default(30_000),
        headersTimeoutMs: z.number().int().min(100).default(10_000),
        /**
         * How long an idle keep-alive connection stays open. Longer than the
         * usual load balancer's idle timeout (AWS ALB 60 s): with Node's 5 s, a
         * balancer reusing a connection the server has just closed answers 502.
         */
        keepAliveTimeoutMs: z.number().int().min(1_000).max(600_000).default(65_000),
      })
      .prefault({}),
    login: z
      .strictObject({
        /** Failed sign-ins per client address within the window before 429. */
        maxFailures: z.number().int().min(1).default(5),
        windowSeconds: z
          .number()
          .int()
          .min(1)
          .default(15 * 60),
      })
      .prefault({}),
    /**
     * /archive/<id> is public only for editions that were sent: an edition
     * built ahead of its day is not leaked by guessing its id. Signed-in
     * editors can preview any edition.
     */
    archiveUnsent: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    if (r.publishers.includes('webhook') && !r.webhook.url)
      ctx.addIssue({
        code: 'custom',
        path: ['webhook', 'url'],
        message: 'the webhook publisher needs review.webhook.url',
      });
  })
  .prefault({});

export type ReviewConfig = z.infer<typeof reviewConfigSchema>;
