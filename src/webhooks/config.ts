import { z } from 'zod';

// `webhooks:` — ESP event webhooks on serve (/hooks/<provider>); secrets come
// from env only (src/webhooks/env.ts names them). A provider whose secret (or,
// for SES, whose topic list) is missing is not configured: /hooks/<it> is 404.

/** The hosts Amazon SNS serves its signing certificates and confirmation links from. */
export const SNS_HOST_PATTERN = '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$';

const regex = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a valid regular expression' },
);

const topicArn = z
  .string()
  .regex(/^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, {
    message: 'must be an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:ses-events',
  });

export const sesWebhookSchema = z
  .strictObject({
    /** The SNS topics SES publishes to; an empty list leaves /hooks/ses unconfigured (404). */
    topicArns: z.array(topicArn).default([]),
    /** Confirm a verified SubscriptionConfirmation by GET of its SubscribeURL; false: log the URL for ops. */
    autoConfirm: z.boolean().default(true),
    /** SNS messages older than this (by their signed Timestamp) are refused. */
    maxAgeSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .default(3_600),
    /** Hosts SigningCertURL and SubscribeURL may name; changed only by tests (a loopback server). */
    certHostPattern: regex.default(SNS_HOST_PATTERN),
    /** An extra CA (PEM file) trusted when fetching from those hosts; only for tests. */
    certCaFile: z.string().optional(),
    certTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
    certMaxBytes: z.number().int().min(1_024).max(1_048_576).default(65_536),
  })
  .prefault({});

export const webhooksConfigSchema = z
  .strictObject({
    /**
     * Body limit for /hooks/ (the rest of the app keeps review.limits.bodyBytes):
     * SendGrid batches up to 768 KB of events, SNS messages up to 256 KB. A call
     * refused for size is retried by the provider and then dropped, so this is
     * generous on purpose.
     */
    maxBodyBytes: z.number().int().min(65_536).max(16_777_216).default(1_048_576),
    /** Mailgun and SendGrid calls whose signed timestamp is further than this from now are refused. */
    maxAgeSeconds: z.number().int().min(30).max(86_400).default(300),
    ses: sesWebhookSchema,
  })
  .prefault({});

export type WebhooksConfig = z.infer<typeof webhooksConfigSchema>;
