import { z } from 'zod';

// The `cards:` section of broadsheet.config.yaml (owned by the cards stage).
export const CARD_FORMATS = ['og', 'x', 'square', 'portrait', 'story', 'wechat'] as const;
export const CARD_KINDS = ['article', 'stat', 'statset', 'quote'] as const;

export const cardsConfigSchema = z
  .strictObject({
    formats: z.array(z.enum(CARD_FORMATS)).min(1).default([...CARD_FORMATS]),
    kinds: z.array(z.enum(CARD_KINDS)).min(1).default([...CARD_KINDS]),
  })
  .prefault({});

export type CardsConfig = z.infer<typeof cardsConfigSchema>;
