import type { CardFormat } from './config.ts';
import type { FormatSpec } from './layout-api.ts';

// Platform sizes. Each format gets its own arrangement in the layouts (shape),
// not a scaled copy of og; `scale` only sets the type size.
export const FORMATS: Record<CardFormat, FormatSpec> = {
  og: { name: 'og', width: 1200, height: 630, shape: 'wide', scale: 1 },
  x: { name: 'x', width: 1600, height: 900, shape: 'wide', scale: 1.36 },
  square: { name: 'square', width: 1080, height: 1080, shape: 'square', scale: 1.1 },
  portrait: { name: 'portrait', width: 1080, height: 1350, shape: 'tall', scale: 1.15 },
  story: { name: 'story', width: 1080, height: 1920, shape: 'tall', scale: 1.3 },
  wechat: { name: 'wechat', width: 900, height: 383, shape: 'banner', scale: 0.72 },
};
