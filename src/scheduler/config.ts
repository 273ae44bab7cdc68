import { z } from 'zod';
import { timeZone } from '../config/zone.ts';

// One entry of `jobs:` in broadsheet.config.yaml (owned by the scheduler).
export const jobSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'lower-case letters, digits, - and _' }),
  kind: z.enum(['ingest', 'build', 'send', 'digest', 'cards', 'publish']),
  edition: z.string().optional(),
  cron: z.string().optional(),
  timezone: timeZone.optional(),
  options: z.record(z.string(), z.unknown()).default({}),
});
