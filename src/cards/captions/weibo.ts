import { tagText } from './common.ts';
import { flattenBrackets } from './text.ts';
import type { PlatformRules } from './types.ts';

// Weibo: one paragraph — no line breaks (they do not survive reposts and the
// feed preview), topics in the closed #話題# form first, the headline in 【】,
// figures joined with ；, the link last after a space (Weibo shows it as a short
// link). Two topics at most. Weibo counts two ASCII characters as one.

/** The last character ends a sentence, or gets 。. */
const sentence = (s: string) => (!s || /[。！？…][」』）》]?$/u.test(s) ? s : `${s}。`);

export const weibo: PlatformRules = {
  platform: 'weibo',
  limit: 2_000,
  softBody: 300,
  maxTags: 2,
  hashtag: (tag) => {
    const t = tagText(tag);
    return t && `#${t}#`;
  },
  compose(p) {
    // A title with its own 【】 inside ours: flattened (【獨家，…】).
    const head = p.title ? flattenBrackets(`【${p.kicker ? `${p.kicker}｜` : ''}${p.title}】`) : '';
    const text = [p.quote ? sentence(p.quote) : '', sentence(p.body), sentence(p.lines.join('；'))].join('');
    return `${p.tags.join('')}${head}${text}${p.url ? ` ${p.url}` : ''}`.replace(/\s*\n\s*/g, ' ');
  },
  length(text) {
    let ascii = 0;
    let other = 0;
    for (const c of text) c.charCodeAt(0) < 0x80 ? ascii++ : other++;
    return other + Math.ceil(ascii / 2);
  },
};
