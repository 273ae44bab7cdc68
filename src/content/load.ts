import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { BroadsheetError } from '../errors/index.ts';
import { type Claim, resolveDuplicates } from './duplicates.ts';
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
  // Every claim to an id first; the duplicates are decided once all files are read.
  const claims = new Map<string, Claim[]>();
  const order: string[] = [];

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
      const { item, problems, idLine } = loader.load({ file, display, rel, text: read.text, root });
      out.problems.push(...problems);
      if (!item) return;
      const id = item.item.id;
      if (!claims.has(id)) {
        claims.set(id, []);
        order.push(id);
      }
      claims.get(id)!.push({ item, display, line: idLine });
    });
  }

  for (const id of order) {
    const all = claims.get(id)!;
    let kept: Claim | undefined = all[0];
    if (all.length > 1) {
      const r = resolveDuplicates(id, all);
      out.problems.push(...r.problems);
      kept = r.kept;
    }
    if (!kept) continue;
    if (kept.item.type === 'article') out.articles.push(kept.item.item);
    else out.stats.push(kept.item.item);
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
