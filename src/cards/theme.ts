import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Theme } from './layout-api.ts';

// templates/cards/theme.json + the brand → the Theme layouts draw with. Its own
// module (no satori or resvg) so the review gallery can read the safe zones
// without loading the renderer. Cached per templates folder and brand: a
// changed theme is read on the next process (the next build, a restarted review).

export interface ThemeBrand {
  name: string;
  url: string;
  colors: Record<string, string>;
}

const themeCache = new Map<string, Theme>();
export function loadTheme(templatesDir: string, brand: ThemeBrand): Theme {
  const key = `${templatesDir}\0${JSON.stringify(brand)}`;
  let t = themeCache.get(key);
  if (!t) {
    const raw = JSON.parse(readFileSync(join(templatesDir, 'cards', 'theme.json'), 'utf8')) as {
      colors?: Record<string, string | null>;
      logo?: { text?: string | null; image?: string | null };
      type?: Record<string, number>;
      safeZones?: Theme['safeZones'];
    };
    const colors = { ...brand.colors } as Record<string, string>;
    for (const [k, v] of Object.entries(raw.colors ?? {})) if (v) colors[k] = v;
    const image = raw.logo?.image
      ? `data:image/${raw.logo.image.endsWith('.svg') ? 'svg+xml' : 'png'};base64,${readFileSync(join(templatesDir, 'cards', raw.logo.image)).toString('base64')}`
      : undefined;
    t = {
      colors: colors as Theme['colors'],
      type: raw.type ?? {},
      logo: { text: raw.logo?.text ?? brand.name, image },
      brand: { name: brand.name, url: brand.url, host: new URL(brand.url).host.replace(/^www\./, '') },
      safeZones: raw.safeZones ?? {},
    };
    themeCache.set(key, t);
  }
  return t;
}

/**
 * The theme's safe zones for the review gallery's overlay; none when the theme
 * cannot be read (a review server without templates/ still shows the cards).
 */
export function themeSafeZones(templatesDir: string, brand: ThemeBrand): Theme['safeZones'] {
  try {
    return loadTheme(templatesDir, brand).safeZones;
  } catch {
    return {};
  }
}
