import type { z } from 'zod';
import type { SectionKey } from './top.ts';

// Each stage's section of the file, imported only when asked for: fast.ts
// builds the sections a file has and takes the others' defaults from the
// build (defaults.ts). schema.ts imports them all, statically.
export const SECTIONS: Record<SectionKey, () => Promise<z.ZodType>> = {
  email: async () => (await import('../email/config.ts')).emailConfigSchema,
  cards: async () => (await import('../cards/config.ts')).cardsConfigSchema,
  delivery: async () => (await import('../delivery/config.ts')).deliveryConfigSchema,
  review: async () => (await import('../review/config.ts')).reviewConfigSchema,
  subscribers: async () => (await import('../review/signup-config.ts')).subscribersConfigSchema,
  store: async () => (await import('../store/config.ts')).storeConfigSchema,
  worker: async () => (await import('../fanout/config.ts')).workerConfigSchema,
  ops: async () => (await import('../ops/config.ts')).opsConfigSchema,
  inbound: async () => (await import('../inbound/config.ts')).inboundConfigSchema,
  webhooks: async () => (await import('../webhooks/config.ts')).webhooksConfigSchema,
  analytics: async () => (await import('../analytics/config.ts')).analyticsConfigSchema,
};
