import { blocks, chars, tagText } from './common.ts';
import type { PlatformRules } from './types.ts';

// LinkedIn: line breaks kept; the link on its own line draws the preview;
// three hashtags at most, at the end (LinkedIn's own advice).

export const linkedin: PlatformRules = {
  platform: 'linkedin',
  limit: 3_000,
  softBody: 600,
  maxTags: 3,
  hashtag: (tag) => {
    const t = tagText(tag);
    return t && `#${t}`;
  },
  compose: (p) => blocks(p, p.url),
  length: chars,
};
