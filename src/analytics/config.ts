import { z } from 'zod';

// `analytics:` — click redirects (/r/), the optional open pixel, scanner filtering (issue 15).
// docs/analytics.md explains each field and why the defaults are what they are.
export const analyticsConfigSchema = z
  .strictObject({
    /** Article links in the digest go through <publicUrl>/r/<token>. Off: links go straight to the article. */
    enabled: z.boolean().default(true),
    /**
     * Links carry an encrypted per-reader part and clicks store the reader's id.
     * Off (default): no reader identity is stored, only a keyed hash of (IP, user agent, UTC day).
     */
    perReader: z.boolean().default(false),
    /**
     * A 1×1 open-tracking image at the end of the HTML. Off by default: it tells
     * a sender when a reader reads, and Apple Mail Privacy Protection fetches
     * every image at delivery, so the numbers mean little.
     */
    openPixel: z.boolean().default(false),
    /** With perReader: a click this soon after the reader's delivery is a link scanner's. */
    scannerDelaySeconds: z.number().int().min(0).max(3600).default(60),
    /** One visitor following this many distinct stories of one edition within `seconds` is a scanner. */
    burst: z
      .strictObject({
        links: z.number().int().min(2).max(100).default(3),
        seconds: z.number().positive().max(600).default(2),
      })
      .prefault({}),
    /** Extra user-agent substrings (case-insensitive) treated as link scanners, besides the built-in few. */
    scannerAgents: z.array(z.string().min(3).max(100)).default([]),
  })
  .prefault({});

export type AnalyticsConfig = z.infer<typeof analyticsConfigSchema>;
