import type { z } from 'zod';
import { formatPath, issueHint, issueMessage } from '../../util/issues.ts';
import { parseYaml } from '../../util/yaml.ts';
import type { Article, StatSet } from '../model.ts';
import type { Problem } from '../problems.ts';

export type ContentItem = { type: 'article'; item: Article } | { type: 'statset'; item: StatSet };

/** A content loader: one folder of files of one kind. A new loader is one file plus one registry line. */
export interface ContentLoader {
  name: string;
  /** Folder under the content root. */
  dir: string;
  exts: readonly string[];
  load(input: { file: string; display: string; rel: string; text: string; root: string }): {
    item?: ContentItem;
    problems: Problem[];
    /** The line of the item's `id`, for reporting two files that claim one id. */
    idLine?: number;
  };
}

/** Parse YAML and validate it with `schema`, turning every issue into a Problem with its line. */
export function parseAndValidate<S extends z.ZodType>(
  schema: S,
  yamlText: string,
  display: string,
  lineOffset = 0,
): {
  data?: z.infer<S>;
  /** The parsed YAML before validation (for checks the schema can't express). */
  raw?: unknown;
  problems: Problem[];
  lineOf: (p: readonly PropertyKey[]) => number | undefined;
} {
  const parsed = parseYaml(yamlText, lineOffset);
  if (parsed.errors.length)
    return {
      problems: parsed.errors.map((e) => ({
        code: 'CONTENT_YAML',
        file: display,
        line: e.line,
        message: `YAML syntax error: ${e.message}`,
        hint: 'quote text that contains ": " or starts with [ { * & ! | > % @ or a backtick',
      })),
      lineOf: parsed.lineOf,
    };
  if (!parsed.value || typeof parsed.value !== 'object' || Array.isArray(parsed.value))
    return {
      problems: [
        {
          code: 'CONTENT_NOT_MAPPING',
          file: display,
          line: parsed.lineOf([]),
          message: 'expected a mapping of fields (key: value)',
          hint: 'see README.md § Content for an example file',
        },
      ],
      lineOf: parsed.lineOf,
    };
  const res = schema.safeParse(parsed.value, { reportInput: true });
  if (res.success) return { data: res.data, raw: parsed.value, problems: [], lineOf: parsed.lineOf };
  return {
    raw: parsed.value,
    problems: res.error.issues.map((i) => {
      const field = formatPath(i.path);
      return {
        code: 'CONTENT_FIELD',
        file: display,
        line: parsed.lineOf(i.path),
        field,
        message: issueMessage(i),
        hint: issueHint(i, field),
      };
    }),
    lineOf: parsed.lineOf,
  };
}
