import { z } from 'zod';
import { analyticsConfigSchema } from '../analytics/config.ts';
import { cardsConfigSchema } from '../cards/config.ts';
import { deliveryConfigSchema } from '../delivery/config.ts';
import { emailConfigSchema } from '../email/config.ts';
import { workerConfigSchema } from '../fanout/config.ts';
import { inboundConfigSchema } from '../inbound/config.ts';
import { opsConfigSchema } from '../ops/config.ts';
import { reviewConfigSchema } from '../review/config.ts';
import { subscribersConfigSchema } from '../review/signup-config.ts';
import { storeConfigSchema } from '../store/config.ts';
import { webhooksConfigSchema } from '../webhooks/config.ts';
import { withSenderIdentity } from './identity.ts';
import { crossFieldIssues, type editionConfigSchema, topShape } from './top.ts';

export { brandSchema, editionConfigSchema } from './top.ts';

// broadsheet.config.yaml. Every field has a default so the embedded defaults
// run with no file at all. Secrets never live here: they come from env only
// (see env.ts), and a secret-looking key in the file is rejected.
// The fields are in the order of top.ts CONFIG_KEYS (tests/unit/start-config-sections.test.ts).

const { timezone, locale, publicUrl, brand, paths, editions, jobs } = topShape;

const configObject = z
  .strictObject({
    timezone,
    locale,
    publicUrl,
    brand,
    paths,
    editions,
    email: emailConfigSchema,
    cards: cardsConfigSchema,
    delivery: deliveryConfigSchema,
    review: reviewConfigSchema,
    subscribers: subscribersConfigSchema,
    store: storeConfigSchema,
    worker: workerConfigSchema,
    ops: opsConfigSchema,
    jobs,
    inbound: inboundConfigSchema,
    webhooks: webhooksConfigSchema,
    analytics: analyticsConfigSchema,
  })
  .superRefine((c, ctx) => {
    for (const { path, message } of crossFieldIssues(c)) ctx.addIssue({ code: 'custom', path, message });
  });

/** The fields of the file, for code that needs one field's schema. */
export const configShape = configObject.shape;

/** The file validated, before the sender identity is filled in (defaults.ts). */
export const configFields = configObject;

/** The whole file, validated; the sender identity filled in from brand and publicUrl where left out. */
export const configSchema = configObject.transform(withSenderIdentity);

export type Config = z.infer<typeof configSchema>;
export type EditionConfig = z.infer<typeof editionConfigSchema>;
