import { blocks, chars, tagText } from './common.ts';
import type { PlatformRules } from './types.ts';

// Threads: 500 characters, line breaks kept, a link is clickable and previewed.
// A post carries one topic tag (Threads links only the first), so one hashtag.

export const threads: PlatformRules = {
  platform: 'threads',
  limit: 500,
  softBody: 300,
  maxTags: 1,
  hashtag: (tag) => {
    const t = tagText(tag);
    return t && `#${t}`;
  },
  compose: (p) => blocks(p, p.url),
  length: chars,
};
