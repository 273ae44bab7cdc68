// Liquid → MJML → minified HTML, once per edition.
//
// Order matters for safety: Liquid renders the MJML *source* with the content
// as auto-escaped data, then MJML compiles the result. Content is never
// concatenated into template source, so `{{ x }}` or `{% raw %}` in a title is
// printed, not evaluated, and `<script>` arrives as &lt;script&gt;.
//
// Partials use MJML's own <mj-include>. MJML reads included files from disk,
// so every template file is rendered by Liquid into a private temp folder
// with the same layout, and MJML compiles from there; errors found there are
// mapped back to the template file (and the line, see sourceLine()).

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Liquid, type LiquidOptions } from 'liquidjs';
import { BroadsheetError } from '../errors/index.ts';
import { deferRequire, MJML_DEFERRED } from '../util/defer-require.ts';
import { escapeHtml, escapeText } from './merge.ts';
import { keepLastPhrase, wrapText } from './text.ts';

export const MAIN_TEMPLATE = 'digest.mjml';
export const TEXT_TEMPLATE = 'digest.txt.liquid';

const engines = new Map<string, { html: Liquid; text: Liquid }>();

/** One pair of engines per template folder; parsed templates are cached (restart to pick up edits). */
export function liquidFor(dir: string) {
  let e = engines.get(dir);
  if (!e) {
    const base: LiquidOptions = {
      root: [dir],
      partials: [dir],
      extname: '',
      cache: true,
      strictFilters: true,
      strictVariables: true,
      lenientIf: true,
      ownPropertyOnly: true,
      relativeReference: false,
    };
    const html = new Liquid({ ...base, outputEscape: escapeHtml });
    // `| escape` inside templates (e.g. before newline_to_br) gets the same token-safe escaping.
    html.registerFilter('escape', escapeHtml);
    // Headlines: no lone character on the last line (src/email/text.ts).
    html.registerFilter('keep', (v: unknown) => keepLastPhrase(String(v ?? '')));
    const text = new Liquid({ ...base, outputEscape: escapeText });
    e = { html, text };
    engines.set(dir, e);
  }
  return e;
}

/**
 * In a CJK subject a gap next to a Han character is set as an ideographic
 * space (U+3000), as Chinese headlines are printed. Besides typography this
 * keeps SpamAssassin's SUBJ_ALL_CAPS (+0.5) from reading a Chinese subject
 * whose only Latin letters are "AI" as SHOUTING.
 */
export const cjkSpaces = (s: string) => s.replace(/(?<=\p{Script=Han}) | (?=\p{Script=Han})/gu, '\u3000');

/** A one-off Liquid string (the subject) rendered as plain text. */
const subjectEngine = new Liquid({
  strictFilters: true,
  strictVariables: false,
  lenientIf: true,
  ownPropertyOnly: true,
  cache: 50,
});
export async function renderSubject(
  template: string,
  data: object,
  field = 'email.subject',
): Promise<string> {
  try {
    const out = await subjectEngine.parseAndRender(template, data);
    return cjkSpaces(out.replace(/\s+/g, ' ').trim());
  } catch (err) {
    throw templateError(err, `${field} (config)`);
  }
}

async function listTemplates(dir: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  for (const ent of await readdir(join(dir, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${ent.name}` : ent.name;
    if (ent.isDirectory()) out.push(...(await listTemplates(dir, rel)));
    // Other top-level templates (confirm.mjml: the signup confirmation) are separate
    // messages with their own data, compiled by their own module, not the digest's partials.
    else if (ent.name.endsWith('.mjml') && (sub || ent.name === MAIN_TEMPLATE)) out.push(rel);
  }
  return out;
}

interface LiquidLikeError extends Error {
  token?: { file?: string; getPosition?: () => number[] };
  originalError?: Error;
}

/** Any template failure → TEMPLATE_ERROR naming the template file and line. */
export function templateError(err: unknown, fallbackFile: string, dir?: string): BroadsheetError {
  if (err instanceof BroadsheetError) return err;
  const e = err as LiquidLikeError;
  const file = e.token?.file ? (dir ? relative(process.cwd(), e.token.file) : e.token.file) : fallbackFile;
  const line = e.token?.getPosition?.()[0];
  const detail = (e.message ?? String(err)).replace(/, line:\d+, col:\d+$/, '').split('\n')[0]!;
  return new BroadsheetError('TEMPLATE_ERROR', { file, line, detail }, { cause: err });
}

let mjmlModule: typeof import('mjml') | undefined;
/** mjml costs ~330 ms to load: only commands that render email pay for it. */
async function mjml() {
  if (!mjmlModule) {
    // Modules MJML's dependencies load but never use here (~0.8 s): src/util/defer-require.ts.
    deferRequire(MJML_DEFERRED);
    mjmlModule = await import('mjml');
  }
  return mjmlModule.default;
}

export interface Compiled {
  html: string;
  /** The plain-text part; '' when it was not asked for (opts.text false). */
  text: string;
  /** MJML warnings (validation soft). */
  warnings: string[];
}

/** MJML's output for one set of rendered template files, before our own post-processing. */
type MjmlOutput = { html: string; warnings: string[] };

/**
 * MJML results of one renderDigest by their input (the rendered template
 * files and the validation level): a page whose rendered templates are the
 * same as one compiled before (the archive page of an edition with no 數讀,
 * which differs from the email only in the stats partial) is not compiled again.
 */
export type CompileShare = Map<string, Promise<MjmlOutput>>;

/**
 * Find the template line an MJML error on a rendered line came from: Liquid
 * loops change line numbers, so look for the offending tag (and attribute) in
 * the template source; fall back to the rendered line number.
 */
function sourceLine(source: string, renderedLine: number, tagName: string, message: string): number {
  const lines = source.split('\n');
  const attr = /^Attribute (\S+)/.exec(message)?.[1] ?? /^Attributes? (\S+?)[, ]/.exec(message)?.[1];
  const hit = (needle: (l: string) => boolean) => {
    const i = lines.findIndex(needle);
    return i >= 0 ? i + 1 : undefined;
  };
  return (
    (attr ? hit((l) => l.includes(`<${tagName}`) && l.includes(`${attr}=`)) : undefined) ??
    hit((l) => l.includes(`<${tagName}`)) ??
    renderedLine
  );
}

async function mapMjmlErrors(
  errors: { line: number; message: string; tagName: string; formattedMessage: string }[],
  tmp: string,
  dir: string,
): Promise<{ file: string; line: number; detail: string }[]> {
  const out = [];
  for (const e of errors) {
    const abs =
      /^Line \d+ of (.+?)(?:, included at| \()/.exec(e.formattedMessage)?.[1] ?? join(tmp, MAIN_TEMPLATE);
    const rel = relative(tmp, abs);
    const srcFile = rel.startsWith('..') ? abs : join(dir, rel);
    const source = await readFile(srcFile, 'utf8').catch(() => '');
    out.push({
      file: relative(process.cwd(), srcFile) || srcFile,
      line: sourceLine(source, e.line, e.tagName, e.message),
      detail: `<${e.tagName}> ${e.message}`,
    });
  }
  return out;
}

/** Render the templates in `dir` with `data` and compile to minified HTML + plain text. */
export async function compileDigest(
  dir: string,
  data: object,
  opts: { validation: 'strict' | 'soft' | 'skip'; text?: boolean; share?: CompileShare },
): Promise<Compiled> {
  const absDir = resolve(dir);
  const { html: htmlLiquid, text: textLiquid } = liquidFor(absDir);
  const files = await listTemplates(absDir).catch((err) => {
    throw new BroadsheetError(
      'TEMPLATE_ERROR',
      { file: dir, detail: 'template folder is missing or unreadable' },
      { cause: err },
    );
  });
  if (!files.includes(MAIN_TEMPLATE))
    throw new BroadsheetError('TEMPLATE_ERROR', {
      file: join(dir, MAIN_TEMPLATE),
      detail: 'main template is missing',
    });

  const rendered: [rel: string, source: string][] = [];
  let svg = false;
  for (const rel of files) {
    let source: string;
    try {
      source = await htmlLiquid.renderFile(rel, data);
    } catch (err) {
      throw templateError(err, join(dir, rel), absDir);
    }
    // mjml-parser-xml crashes on an include with an empty body (a partial
    // whose {% if %} was false); an empty mj-raw renders as nothing.
    if (rel !== MAIN_TEMPLATE && !/<mj-[a-z]/.test(source.replace(/<!--[\s\S]*?-->/g, '')))
      source = '<mj-raw></mj-raw>';
    if (!svg && /<svg/i.test(source)) svg = true;
    rendered.push([rel, source]);
  }

  let mjmlOut: Promise<MjmlOutput> | undefined;
  let key: string | undefined;
  if (opts.share) {
    const h = createHash('sha256').update(`${absDir}\0${opts.validation}\0`);
    for (const [rel, source] of rendered) h.update(`${rel}\0${source.length}\0`).update(source);
    key = h.digest('hex');
    mjmlOut = opts.share.get(key);
  }
  if (!mjmlOut) {
    mjmlOut = runMjml(dir, rendered, svg, opts.validation);
    if (key) opts.share!.set(key, mjmlOut);
  }
  const { html, warnings } = await mjmlOut;

  let text = '';
  if (opts.text !== false) {
    try {
      text = tidyText(await textLiquid.renderFile(TEXT_TEMPLATE, data));
    } catch (err) {
      throw templateError(err, join(dir, TEXT_TEMPLATE), absDir);
    }
  }
  return { html: heroHeight(dropLinkTargets(html), data), text, warnings: [...warnings] };
}

/** The rendered template files compiled by MJML in a private temp folder (for <mj-include>). */
async function runMjml(
  dir: string,
  rendered: [rel: string, source: string][],
  svg: boolean,
  validation: 'strict' | 'soft' | 'skip',
): Promise<MjmlOutput> {
  const tmp = await mkdtemp(join(tmpdir(), 'broadsheet-email-'));
  try {
    for (const [rel, source] of rendered) {
      const target = join(tmp, ...rel.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, source);
    }
    const mainPath = join(tmp, MAIN_TEMPLATE);
    const compile = await mjml();
    let result: Awaited<ReturnType<typeof compile>>;
    try {
      result = await compile(await readFile(mainPath, 'utf8'), {
        filePath: mainPath,
        actualPath: mainPath,
        ignoreIncludes: false,
        includePath: tmp + sep,
        fonts: {},
        minify: true,
        // htmlnano's safe preset minifies inline <svg> with SVGO, whose import
        // costs ~0.9 s of CPU on the first compile (issue 16: the digest is on
        // a one-article rebuild's critical path). MJML's components write no
        // <svg> of their own, so there is one in the HTML only when a
        // template put it there: then SVGO runs as before.
        minifyOptions: svg ? {} : { minifySvg: false },
        keepComments: false,
        validationLevel: validation,
      });
    } catch (err) {
      const errs = (err as { errors?: Parameters<typeof mapMjmlErrors>[0] }).errors;
      if (errs?.length) {
        const mapped = await mapMjmlErrors(errs, tmp, dir);
        const first = mapped[0]!;
        const more =
          mapped.length > 1
            ? ` (+${mapped.length - 1} more: ${mapped
                .slice(1)
                .map((m) => `${m.file}:${m.line} ${m.detail}`)
                .join('; ')})`
            : '';
        throw new BroadsheetError(
          'TEMPLATE_ERROR',
          { file: first.file, line: first.line, detail: first.detail + more },
          { cause: err },
        );
      }
      throw templateError(err, join(dir, MAIN_TEMPLATE));
    }
    const warnings = (await mapMjmlErrors(result.errors, tmp, dir)).map(
      (m) => `${m.file}:${m.line}: ${m.detail}`,
    );
    return { html: result.html, warnings };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * mj-image writes target="_blank" on its link; Gmail, Yahoo and Outlook for
 * Mac drop the attribute (caniemail) and every client opens mail links in a
 * browser anyway, so it is removed rather than listed as unsupported.
 */
const dropLinkTargets = (html: string) => html.replace(/(<a\b[^>]*?)\starget(?:="[^"]*")?(?=[\s>])/g, '$1');

/**
 * The lead picture is fluid (CSS `height:auto`, so a phone keeps its
 * proportions), but mj-image then writes `height="auto"` as the attribute too.
 * Outlook for Windows sizes images by their attributes alone, and other clients
 * reserve the space before the picture loads, so the attribute gets the real
 * pixel height for the 552 px column; the CSS still wins where CSS applies.
 */
function heroHeight(html: string, data: object): string {
  const image = (data as { lead?: { image?: { src?: string; height?: number | null } | null } }).lead?.image;
  if (!image?.src || !image.height) return html;
  const src = image.src
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return html.replace(
    new RegExp(`(<img\\b[^>]*\\bsrc="${src}"[^>]*?\\sheight=)"auto"`),
    `$1"${image.height}"`,
  );
}

/** Trailing spaces off, at most one blank line in a row, 72 columns, one final newline. */
const tidyText = (s: string) =>
  `${wrapText(
    s
      .replace(/\u2060/g, '') // word joiners are for HTML line breaking only
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim(),
  )}\n`;
