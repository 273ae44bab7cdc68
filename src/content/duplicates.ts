import type { ContentItem } from './loaders/types.ts';
import type { Problem } from './problems.ts';

// Two files that claim one id (ids name folders under out/<edition>/cards/,
// so they are unique across articles and stat sets). The decision never
// depends on file names or the order a folder listing returns them in:
// - same kind, one strictly older (articles by publishedAt, stat sets by
//   date): the older is kept — it is the one already published and linked —
//   and every other claimant is reported and left out;
// - a tie, or an article and a stat set: none can be chosen on the content
//   alone, so every claimant is reported and none is used.

export interface Claim {
  item: ContentItem;
  display: string;
  line?: number;
}

const dateOf = (c: ContentItem): { field: string; value: string; ms: number } =>
  c.type === 'article'
    ? { field: 'publishedAt', value: c.item.publishedAt, ms: Date.parse(c.item.publishedAt) }
    : { field: 'date', value: c.item.date, ms: Date.parse(`${c.item.date}T00:00:00Z`) };

const where = (c: Claim) => `${c.display}${c.line ? `:${c.line}` : ''}`;

/** Which of several claims to one id is kept (if any), and a problem for each one left out. */
export function resolveDuplicates(id: string, claims: Claim[]): { kept?: Claim; problems: Problem[] } {
  const sameKind = claims.every((c) => c.item.type === claims[0]!.item.type);
  const dated = claims
    .map((c) => ({ c, d: dateOf(c.item) }))
    .sort((a, b) => a.d.ms - b.d.ms || a.c.display.localeCompare(b.c.display));
  const oldest = dated[0]!;
  const unique = sameKind && dated.length > 1 && oldest.d.ms < dated[1]!.d.ms;
  const all = dated.map(({ c, d }) => `${where(c)} (${d.field} ${d.value})`).join(', ');
  if (unique) {
    const kept = oldest.c;
    return {
      kept,
      problems: dated.slice(1).map(({ c, d }) => ({
        code: 'CONTENT_DUPLICATE_ID',
        file: c.display,
        line: c.line,
        field: 'id',
        message: `id "${id}" is also claimed by ${where(kept)} (${oldest.d.field} ${oldest.d.value}, older than this file's ${d.value}): the older file is used, this one is left out`,
        hint: 'give this file its own id; if it is meant to replace the older one, delete the older file',
      })),
    };
  }
  const why = sameKind
    ? `with the same ${oldest.d.field}, so neither is older`
    : 'by an article and a stat set, which cannot be ranked by date';
  return {
    problems: dated.map(({ c }) => ({
      code: 'CONTENT_DUPLICATE_ID',
      file: c.display,
      line: c.line,
      field: 'id',
      message: `id "${id}" is claimed ${why}: ${all}; none of them is used`,
      hint: 'give each article and stat set its own id, or delete the copy',
    })),
  };
}
