import type { Platform } from '../config.ts';
import { facebook } from './facebook.ts';
import { instagram } from './instagram.ts';
import { linkedin } from './linkedin.ts';
import { threads } from './threads.ts';
import type { PlatformRules } from './types.ts';
import { weibo } from './weibo.ts';
import { x } from './x.ts';

/** One file per platform; a new platform is one file plus one line here (and in PLATFORMS). */
export const PLATFORM_RULES: Record<Platform, PlatformRules> = {
  x,
  threads,
  facebook,
  instagram,
  linkedin,
  weibo,
};
