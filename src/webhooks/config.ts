import { z } from 'zod';

// `webhooks:` — ESP event webhooks on serve (/hooks/<provider>); secrets come from env only (issue 15).
export const webhooksConfigSchema = z.strictObject({}).prefault({});
