import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { type Article, articleFrontMatterSchema, LIMITS } from '../model.ts';
import type { Problem } from '../problems.ts';
import { block } from '../text.ts';
import { likelyTypo } from '../typos.ts';
import { type ContentLoader, parseAndValidate } from './types.ts';

// Front matter must open on the first line; `---` or `+++`-less Markdown is refused
// so a stray README in articles/ is reported rather than silently skipped.
const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/**
 * An image src is an https URL or a path that stays inside the content folder.
 * Plain http is refused here, where the writer can fix it: the card build
 * fetches https only, so an http photo would silently drop off every card.
 * (Tests that serve photos from http://127.0.0.1 build their articles in code,
 * past this check, with cards.photos.allowHttpLoopback.)
 */
function checkImage(src: string, root: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(src)?.[1]?.toLowerCase();
  if (scheme === 'http') return 'http:// images are not fetched (https only)';
  if (scheme) return scheme === 'https' ? undefined : `scheme "${scheme}:" is not allowed`;
  if (isAbsolute(src) || src.startsWith('\\')) return 'absolute paths are not allowed';
  const rel = relative(root, resolve(root, src));
  if (rel.startsWith('..') || isAbsolute(rel)) return 'the path escapes the content folder';
  if (!existsSync(resolve(root, src))) return `file not found: ${src}`;
  return undefined;
}

export const articleLoader: ContentLoader = {
  name: 'article',
  dir: 'articles',
  exts: ['.md', '.markdown'],
  load({ display, rel, text, root }) {
    const m = FRONT_MATTER.exec(text);
    if (!m)
      return {
        problems: [
          {
            code: 'CONTENT_NO_FRONT_MATTER',
            file: display,
            line: 1,
            message: 'no YAML front matter',
            hint: 'start the file with a line "---", the fields (id, title, dek, …), then another "---"',
          },
        ],
      };
    // Front matter starts on line 2 of the file.
    const { data, raw, problems, lineOf } = parseAndValidate(articleFrontMatterSchema, m[1]!, display, 1);
    // Unknown fields are ignored, but a near miss of a known one is an error:
    // `publishAt` silently ignored would leave the article undated.
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      const known = Object.keys(articleFrontMatterSchema.shape);
      for (const key of Object.keys(raw)) {
        const meant = known.includes(key) ? undefined : likelyTypo(key, known);
        if (meant)
          problems.push({
            code: 'CONTENT_FIELD',
            file: display,
            line: lineOf([key]),
            field: key,
            message: `unknown field "${key}"`,
            hint: `did you mean "${meant}"?`,
          });
      }
    }
    const body = text.slice(m[0].length);
    const bodyCheck = block(LIMITS.body).safeParse(body);
    if (!bodyCheck.success) {
      const bodyLine = m[0].split('\n').length;
      problems.push({
        code: 'CONTENT_FIELD',
        file: display,
        line: bodyLine,
        field: 'body',
        message: bodyCheck.error.issues[0]!.message,
        hint: 'delete invisible characters from the Markdown body',
      });
    }
    const images: [string[], string | undefined][] = [
      [['image', 'src'], data?.image?.src],
      [['quote', 'portrait', 'src'], data?.quote?.portrait?.src],
    ];
    for (const [path, src] of images) {
      const bad = src === undefined ? undefined : checkImage(src, root);
      if (bad)
        problems.push({
          code: 'CONTENT_IMAGE_PATH',
          file: display,
          line: lineOf(path),
          field: path.join('.'),
          message: bad,
          hint: bad.startsWith('http:')
            ? `write the image's https:// address (${src!.replace(/^http:/i, 'https:')}), or save the file under content/images/ and give its path`
            : 'use an https:// URL or a path inside the content folder, e.g. images/2025-12-10/photo.jpg',
        } satisfies Problem);
    }
    if (!data || problems.length) return { problems };
    const article: Article = { ...data, body: body.replace(/^\s*\n/, ''), sourcePath: rel };
    return { item: { type: 'article', item: article }, problems, idLine: lineOf(['id']) };
  },
};
