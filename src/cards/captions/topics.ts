// Hashtag topics for an item, most specific first: its own tags, then its
// section (unless the section names a page, not a topic), then the series (數讀).

/** Sections that are places in the paper, not topics anyone follows. */
const NOT_TOPICS = new Set(['要聞', '頭條', '即時', '新聞', '最新', '其他', '綜合']);

export function topics(tags: readonly string[], section?: string, series?: string): string[] {
  const out = [...tags];
  if (section && !NOT_TOPICS.has(section.trim())) out.push(section);
  if (series) out.push(series);
  return out;
}
