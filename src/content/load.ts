import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { BroadsheetError } from '../errors/index.ts';
import { listFiles, readText } from './files.ts';
import { loaders } from './loaders/index.ts';
import type { Article, StatSet } from './model.ts';
import { displayPath, type Problem } from './problems.ts';

export interface LoadedContent {
  root: string;
  articles: Article[];
  stats: StatSet[];
  /** Every problem of the folder; files with problems are left out, the rest load. */
  problems: Problem[];
  /** How many files were read. */
  files: number;
}

/** Load and validate every content file under `root`. Throws only when `root` itself is missing. */
export async function loadContent(root: string): Promise<LoadedContent> {
  if (!existsSync(root)) throw new BroadsheetError('CONTENT_DIR_MISSING', { dir: displayPath(root) });
  const out: LoadedContent = { root, articles: [], stats: [], problems: [], files: 0 };
  const seen = new Map<string, string>();

  for (const loader of loaders) {
    const files = await listFiles(join(root, loader.dir), loader.exts);
    const reads = await Promise.all(files.map(readText));
    files.forEach((file, i) => {
      out.files++;
      const display = displayPath(file);
      const rel = relative(root, file).split(sep).join('/');
      const read = reads[i]!;
      if (!read.ok) {
        out.problems.push({
          code: read.code,
          file: display,
          message: read.message,
          hint: hintFor(read.code),
        });
        return;
      }
      const { item, problems } = loader.load({ file, display, rel, text: read.text, root });
      out.problems.push(...problems);
      if (!item) return;
      // Ids name folders under out/<edition>/cards/, so they are unique across all kinds.
      const first = seen.get(item.item.id);
      if (first) {
        out.problems.push({
          code: 'CONTENT_DUPLICATE_ID',
          file: display,
          field: 'id',
          message: `id "${item.item.id}" is already used by ${first}`,
          hint: 'give each article and stat set its own id',
        });
        return;
      }
      seen.set(item.item.id, display);
      if (item.type === 'article') out.articles.push(item.item);
      else out.stats.push(item.item);
    });
  }
  return out;
}

function hintFor(code: Problem['code']): string {
  switch (code) {
    case 'CONTENT_EMPTY':
      return 'delete the file or fill it in';
    case 'CONTENT_BINARY':
      return 'save the file as UTF-8 text; images belong in content/images/';
    default:
      return 'split the file or move long material elsewhere';
  }
}
