import { displayPath } from '../util/paths.ts';

export { displayPath };

// Content problems are collected, not thrown: one run reports every problem of
// a folder at once, and the valid files still load. Codes are stable (tests
// assert them); the hint says what to do.
export const PROBLEM_CODES = {
  CONTENT_EMPTY: 'the file is empty',
  CONTENT_BINARY: 'not a UTF-8 text file',
  CONTENT_TOO_LARGE: 'the file is too large',
  CONTENT_NO_FRONT_MATTER: 'no YAML front matter',
  CONTENT_YAML: 'YAML syntax error',
  CONTENT_NOT_MAPPING: 'the YAML is not a mapping of fields',
  CONTENT_FIELD: 'a field is invalid',
  CONTENT_DUPLICATE_ID: 'the id is used by another file',
  CONTENT_IMAGE_PATH: 'the image path is not allowed',
  CSV_QUOTE: 'a quote is misplaced or never closed',
  CSV_FIELD_COUNT: 'the row has the wrong number of fields',
  CSV_SYNTAX: 'the row is not valid CSV',
  CSV_LOCALE: 'the locale is not supported',
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;

export interface Problem {
  code: ProblemCode;
  /** Path as the user typed it (relative to the working folder when possible). */
  file: string;
  line?: number;
  /** Field path, e.g. groups[0].stats[1].value. */
  field?: string;
  message: string;
  hint: string;
}

/** `content/stats/ai.yaml:12 → groups[0].stats[1].value: expected number, received "157.6萬"` */
export function formatProblem(p: Problem): string {
  const where = `${p.file}${p.line ? `:${p.line}` : ''}`;
  return `${where} → ${p.field ? `${p.field}: ` : ''}${p.message}\n    hint: ${p.hint} [${p.code}]`;
}
