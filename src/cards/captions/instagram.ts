import { blocks, chars, tagText } from './common.ts';
import type { PlatformRules } from './types.ts';

// Instagram: links in a caption are not clickable, so the caption points to the
// link in the profile instead of printing one; the hashtags go in one block at
// the end (up to cards.maxHashtags). Line breaks are kept when no space precedes them.

export const instagram: PlatformRules = {
  platform: 'instagram',
  limit: 2_200,
  softBody: 500,
  maxTags: 30,
  hashtag: (tag) => {
    const t = tagText(tag);
    return t && `#${t}`;
  },
  compose: (p) =>
    blocks(
      p,
      p.kind === 'stat' || p.kind === 'statset' ? '👉 詳情：按個人簡介連結' : '👉 全文：按個人簡介連結',
    ),
  length: chars,
};
