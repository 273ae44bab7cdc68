import { isNode, LineCounter, parseDocument } from 'yaml';

export interface ParsedYaml {
  value: unknown;
  /** 1-based line of the node at `path`, or of its nearest existing parent. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
  /** Syntax errors, each with its 1-based line. */
  errors: { line: number | undefined; message: string }[];
}

/**
 * YAML 1.2 core schema (timestamps stay strings, "yes" stays a string), keeping
 * positions so every problem can name its line. `lineOffset` shifts lines for
 * front matter that starts after a `---` line.
 */
export function parseYaml(text: string, lineOffset = 0): ParsedYaml {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, schema: 'core' });
  const toLine = (offset: number | undefined) =>
    offset === undefined ? undefined : lc.linePos(offset).line + lineOffset;
  const errors = doc.errors.map((e) => ({
    line: toLine(e.pos?.[0]),
    message: e.message.split('\n')[0] ?? e.message,
  }));
  const lineOf = (path: readonly PropertyKey[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return toLine(node.range[0]);
    }
    return undefined;
  };
  return { value: errors.length ? undefined : doc.toJS({ maxAliasCount: 50 }), lineOf, errors };
}
