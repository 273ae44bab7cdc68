import { blocks, chars, tagText } from './common.ts';
import type { PlatformRules } from './types.ts';

// Facebook: line breaks kept; the link on its own line draws the preview; a
// page's hashtags are used sparingly (two at most), at the end.

export const facebook: PlatformRules = {
  platform: 'facebook',
  limit: 63_206,
  softBody: 400,
  maxTags: 2,
  hashtag: (tag) => {
    const t = tagText(tag);
    return t && `#${t}`;
  },
  compose: (p) => blocks(p, p.url),
  length: chars,
};
