import { z } from 'zod';

// `analytics:` — click redirects (/r/), the optional open pixel, scanner filtering (issue 15).
export const analyticsConfigSchema = z.strictObject({}).prefault({});
