// Hashtag topics for an item, in the order platforms take them: its first three
// tags, then the series (數讀, so Instagram's block of five keeps it while X's
// two and LinkedIn's three stay topical), its other tags, then its section —
// unless the section names a page of the paper rather than a topic.

/** Sections that are places in the paper, not topics anyone follows. */
const NOT_TOPICS = new Set(['要聞', '頭條', '即時', '新聞', '最新', '其他', '綜合']);

export function topics(tags: readonly string[], section?: string, series?: string): string[] {
  const out = [...tags.slice(0, 3), ...(series ? [series] : []), ...tags.slice(3)];
  if (section && !NOT_TOPICS.has(section.trim())) out.push(section);
  return out;
}
