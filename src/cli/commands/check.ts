import type { Command } from 'commander';
import { SAMPLE_DOMAINS } from '../../config/identity.ts';
import type { LoadedContent } from '../../content/load.ts';
import { displayPath, formatProblem } from '../../content/problems.ts';
import type { Context } from '../../context.ts';
import { contentDays, selectEdition } from '../../edition/select.ts';
import { BroadsheetError } from '../../errors/index.ts';
import { action, createContext, globalsOf, printJson } from '../app.ts';

/**
 * Warnings do not fail `check`; they name what will go wrong in production.
 * A real transport (SMTP_URL, or delivery.transport: smtp) still sending as
 * the sample newsroom would put example.com on every reader's digest.
 */
function configWarnings(ctx: Context): BroadsheetError[] {
  const real = ctx.secrets.smtpUrl || ctx.config.delivery.transport === 'smtp';
  const { from } = ctx.config.email;
  const domains = [from.split('@').pop()?.replace(/>.*$/, '') ?? '', ctx.config.delivery.domain].map((d) =>
    d.trim().toLowerCase(),
  );
  const sample = domains.find((d) => SAMPLE_DOMAINS.some((s) => d === s || d.endsWith(`.${s}`)));
  return real && sample ? [new BroadsheetError('SENDER_SAMPLE_DOMAIN', { from, domain: sample })] : [];
}

/** DIGEST_SUBJECT_LONG for each edition's latest day with content (the email stage renders the subject). */
async function subjectWarnings(ctx: Context, content: LoadedContent): Promise<BroadsheetError[]> {
  const { subjectCheck } = await import('../../email/index.ts');
  const out: BroadsheetError[] = [];
  for (const name of Object.keys(ctx.config.editions)) {
    if (!contentDays(content, ctx.config.editions[name]!.timezone ?? ctx.config.timezone).length) continue;
    const { warning } = await subjectCheck(selectEdition(content, ctx.config, { name }), ctx);
    if (warning) out.push(warning);
  }
  return out;
}

export function registerCheck(program: Command) {
  program
    .command('check')
    .description('validate configuration and content; exit 1 on any problem')
    .action(
      action(async (_opts: object, cmd: Command) => {
        const g = globalsOf(cmd);
        const ctx = createContext(g); // config problems throw: exit 2 with every path listed
        // Loaded here, not at the top: the content schemas (zod, yaml) would slow every --help.
        const { loadContent } = await import('../../content/load.ts');
        const content = await loadContent(ctx.paths.content);
        const editions = Object.entries(ctx.config.editions).flatMap(([name, ed]) =>
          contentDays(content, ed.timezone ?? ctx.config.timezone).map((d) => `${name}-${d}`),
        );
        const ok = content.problems.length === 0;
        const warnings = [...configWarnings(ctx), ...(await subjectWarnings(ctx, content))];
        if (g.json) {
          printJson({
            ok,
            config: displayPath(ctx.paths.config),
            content: displayPath(ctx.paths.content),
            files: content.files,
            articles: content.articles.length,
            stats: content.stats.length,
            editions,
            problems: content.problems,
            warnings: warnings.map((w) => ({ code: w.code, message: w.message, hint: w.hint })),
          });
        } else {
          for (const w of warnings)
            process.stderr.write(`warning ${w.code}: ${w.message}\nhint: ${w.hint}\n`);
          const out: string[] = [];
          for (const p of content.problems) out.push(formatProblem(p));
          const bad = new Set(content.problems.map((p) => p.file)).size;
          out.push(
            `${ok ? '✓' : '✗'} ${displayPath(ctx.paths.content)}: ${content.files} file(s), ${content.articles.length} article(s) and ${content.stats.length} stat set(s) valid` +
              (ok ? '' : `; ${content.problems.length} problem(s) in ${bad} file(s)`),
          );
          if (editions.length)
            out.push(
              `  editions with content: ${editions.slice(0, 5).join(', ')}${editions.length > 5 ? ' …' : ''}`,
            );
          (ok ? process.stdout : process.stderr).write(`${out.join('\n')}\n`);
        }
        return ok ? 0 : 1;
      }),
    );
}
