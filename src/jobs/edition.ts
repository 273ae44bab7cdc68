import { loadContent } from '../content/load.ts';
import { formatProblem } from '../content/problems.ts';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import { selectEdition } from '../edition/select.ts';

/**
 * Load content/ and select an edition from it: what build, send and the card
 * job all start from. Files with problems are logged and left out; the rest
 * of the edition still builds (`check` is the gate that fails on them).
 */
export async function editionFromContent(
  ctx: Context,
  opts: { id?: string; name?: string } = {},
): Promise<{ edition: Edition; problems: number }> {
  const content = await loadContent(ctx.paths.content);
  for (const p of content.problems)
    ctx.logger.warn({ code: p.code, file: p.file, line: p.line, field: p.field }, formatProblem(p));
  return { edition: selectEdition(content, ctx.config, opts), problems: content.problems.length };
}
