import { z } from 'zod';

// The `cards:` section of broadsheet.config.yaml (owned by the cards stage).
export const CARD_FORMATS = ['og', 'x', 'square', 'portrait', 'story', 'wechat'] as const;
export const CARD_KINDS = ['article', 'stat', 'statset', 'quote'] as const;
export const CARD_RENDERERS = ['glyphcache', 'resvg'] as const;
/** The renderer when neither config nor job names one. */
export const DEFAULT_CARD_RENDERER: (typeof CARD_RENDERERS)[number] = 'glyphcache';
export const PLATFORMS = ['x', 'threads', 'facebook', 'instagram', 'linkedin', 'weibo'] as const;

export const cardsConfigSchema = z
  .strictObject({
    formats: z
      .array(z.enum(CARD_FORMATS))
      .min(1)
      .default([...CARD_FORMATS]),
    kinds: z
      .array(z.enum(CARD_KINDS))
      .min(1)
      .default([...CARD_KINDS]),
    /** Captions written per item (caption.<platform>.txt). */
    platforms: z.array(z.enum(PLATFORMS)).default([...PLATFORMS]),
    /**
     * Worker threads for a full edition: "auto" = CPUs (in-process on 2 or fewer: src/cards/workers.ts),
     * 0 = always render in-process (also a build's few cards, which otherwise draw beside the digest).
     */
    workers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
    /**
     * Below this many cards to draw, no pool of cards.workers: `build` draws them in one worker thread
     * while the digest compiles (src/cards/index.ts startCards); `cards` alone draws them in-process.
     */
    poolThreshold: z.number().int().min(0).default(24),
    /** Most hashtags per caption (Instagram allows 30; fewer read better). */
    maxHashtags: z.number().int().min(0).max(30).default(5),
    /** Add utm_source=<platform>&utm_medium=social to caption links. */
    utm: z.boolean().default(true),
    /**
     * PNG zlib level (Node's zlib, unfiltered rows: src/cards/png.ts). A
     * text-only card (≤ 256 colours) is written indexed at this level: at 3,
     * 0.69–0.74× the bytes of the RGB path. A card with a photo is RGB, WeChat
     * and story at 4 when this is 1–3 (cardPngLevel); 4 gives ≈ 18 % smaller
     * RGB files for about twice the encode time (bench/cards.ts prints both).
     */
    pngCompression: z.number().int().min(0).max(9).default(3),
    /**
     * 'resvg': satori draws glyph outlines, resvg fills them. 'glyphcache':
     * satori positions text, glyph bitmaps are rasterized once and composited
     * (src/cards/raster.ts); falls back to 'resvg' for SVG it does not handle.
     */
    renderer: z.enum(CARD_RENDERERS).default(DEFAULT_CARD_RENDERER),
    /**
     * How figures print on cards, in captions and in the digest: large values in
     * 萬/億 ('cjk') or digits only ('plain'); 10¹² as 萬億 (HK, mainland) or 兆 (Taiwan).
     */
    /** Write one contact sheet per format (<edition>/contact/<format>.png) for the gallery. */
    contactSheets: z.boolean().default(true),
    /**
     * Article photos. Remote ones (https) are fetched at build time within
     * these bounds and cached under <out>/.cache/photos by URL; a failure is
     * remembered for failureTtlMinutes, so an offline build waits once per URL.
     */
    photos: z
      .strictObject({
        enabled: z.boolean().default(true),
        timeoutMs: z.number().int().min(100).max(120_000).default(8000),
        maxBytes: z
          .number()
          .int()
          .min(1024)
          .default(15 * 1024 * 1024),
        failureTtlMinutes: z.number().min(0).default(30),
        /** Test-only: also fetch http://127.0.0.1 (a loopback image server in the tests). Never set in production. */
        allowHttpLoopback: z.boolean().default(false),
      })
      .prefault({}),
    numbers: z
      .strictObject({
        large: z.enum(['cjk', 'plain']).default('cjk'),
        trillion: z.enum(['萬億', '兆']).default('萬億'),
        grouping: z.boolean().default(false),
      })
      .prefault({}),
  })
  .prefault({});

export type CardsConfig = z.infer<typeof cardsConfigSchema>;
export type CardFormat = (typeof CARD_FORMATS)[number];
export type CardKind = (typeof CARD_KINDS)[number];
export type CardRenderer = (typeof CARD_RENDERERS)[number];
export type Platform = (typeof PLATFORMS)[number];
