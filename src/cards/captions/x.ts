import { createRequire } from 'node:module';
import { blocks, tagText } from './common.ts';
import type { PlatformRules } from './types.ts';

// X: 280 weighted characters counted by twitter-text (CJK 2, any URL 23). Line
// breaks are kept. The link on its own line (X draws the card from it); one or
// two hashtags, each one twitter-text reads whole as a hashtag.

const require = createRequire(import.meta.url);
export const twitter = require('twitter-text') as {
  parseTweet(t: string): { weightedLength: number; valid: boolean };
  extractHashtags(t: string): string[];
};

export const x: PlatformRules = {
  platform: 'x',
  limit: 280,
  softBody: 280,
  maxTags: 2,
  hashtag(tag) {
    const t = tagText(tag);
    if (!t) return undefined;
    // Inline-safe: X links the whole tag, not a piece of it.
    const got = twitter.extractHashtags(`#${t} `);
    return got.length === 1 && got[0] === t ? `#${t}` : undefined;
  },
  compose: (p) => blocks(p, p.url),
  length: (text) => twitter.parseTweet(text).weightedLength,
};
