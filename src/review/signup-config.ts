import { z } from 'zod';

// The `subscribers:` section of broadsheet.config.yaml (issue 14): public signup
// with double opt-in on `serve`.

export const subscribersConfigSchema = z
  .strictObject({
    /** Offer /subscribe (the form, the hosted page and the confirm links). */
    signup: z.boolean().default(true),
    /** A pending signup not confirmed within this many hours is dropped (its link stops working). */
    pendingExpiryHours: z
      .number()
      .min(1)
      .max(24 * 30)
      .default(48),
    /**
     * Sites allowed to POST the signup form cross-site (an embedded snippet on the
     * newsroom's own site), e.g. https://news.example.com. Empty: any site may —
     * a signup only ever starts a double opt-in, and the rate limits hold.
     */
    allowedOrigins: z.array(z.url({ protocol: /^https?$/ })).default([]),
    /** Topics a reader may choose (article sections or tags); default: email.sections. */
    topics: z.array(z.string().min(1).max(40)).max(50).default([]),
    /** Signup attempts per client IP per hour, and per address per day. */
    perIpPerHour: z.number().int().min(1).default(10),
    perAddressPerDay: z.number().int().min(1).default(3),
  })
  .prefault({});

export type SubscribersConfig = z.infer<typeof subscribersConfigSchema>;
