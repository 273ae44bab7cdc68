import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import satori from 'satori';
import { BroadsheetError } from '../errors/index.ts';
import { formatChange, formatNumber, type NumberStyle, numberParts } from '../util/numbers.ts';
import { wrapQuote } from '../util/quotes.ts';
import { type CardFormat, type CardKind, type CardRenderer, DEFAULT_CARD_RENDERER } from './config.ts';
import {
  codePointLabel,
  emojiDataUri,
  FONT_FAMILY,
  firstMissingGlyph,
  graphemes,
  satoriFontList,
  usesFallback,
} from './fonts.ts';
import { FORMATS } from './formats.ts';
import { stopPretenuring } from './gc.ts';
import type { CardChild, CardDataByKind, CardNode, Layout, LayoutKit, Theme } from './layout-api.ts';
import { findOverflow } from './overflow.ts';
import { cardPngLevel, encodePng } from './png.ts';
import { squashLine } from './punct.ts';
import { rasterize } from './raster.ts';
import { predecodePhoto } from './raster-images.ts';
import { standInImages } from './stand-ins.ts';
import { insertTexts, planTexts } from './text-plan.ts';
import { loadTheme } from './theme.ts';
import { type FitOptions, fitText, measure } from './typeset.ts';

// One card: layout (templates/cards/<kind>.ts) → element tree → satori SVG
// (its boxes; plain text laid out by text-plan.ts, photos as stand-ins of
// their size, stand-ins.ts) → pixels (raster.ts, else resvg) → PNG. Runs the
// same in the main thread and in pool workers.
// PNG encoding is src/cards/png.ts (Node's zlib on unfiltered rows, indexed
// when the card has ≤ 256 colours, in this thread): measured against
// sharp/libvips and filtered variants in bench/cards.ts.

export interface CardJob<K extends CardKind = CardKind> {
  /** `<item-id>/<format>`, for messages. */
  id: string;
  kind: K;
  format: CardFormat;
  data: CardDataByKind[K];
  templatesDir: string;
  brand: { name: string; url: string; colors: Record<string, string> };
  pngCompression: number;
  /** How figures print (cards.numbers); default 萬/億/萬億. */
  numbers?: NumberStyle;
  /** 'glyphcache' (src/cards/raster.ts) or 'resvg' (glyph outlines through resvg); default DEFAULT_CARD_RENDERER. */
  renderer?: CardRenderer;
}

export interface RenderedCard {
  png: Buffer;
  width: number;
  height: number;
}

export const LAYOUT_FILES: Record<CardKind, string> = {
  article: 'article.ts',
  stat: 'stat.ts',
  statset: 'statset.ts',
  quote: 'quote.ts',
};

// A card's objects live about one card: V8 is told not to pretenure them (gc.ts).
stopPretenuring();

const layoutCache = new Map<string, Promise<Layout<CardKind>>>();
async function loadLayout(templatesDir: string, kind: CardKind): Promise<Layout<CardKind>> {
  const file = join(templatesDir, 'cards', LAYOUT_FILES[kind]);
  let p = layoutCache.get(file);
  if (!p) {
    p = import(pathToFileURL(file).href).then(
      (m: { default?: Layout<CardKind> }) => {
        if (typeof m.default !== 'function') throw new BroadsheetError('CARD_LAYOUT_MISSING', { kind, file });
        return m.default;
      },
      (cause) => {
        throw new BroadsheetError('CARD_LAYOUT_MISSING', { kind, file }, { cause });
      },
    );
    layoutCache.set(file, p);
  }
  return p;
}

export { loadTheme };

/**
 * The block's children: one text node when no punctuation is squashed, else a
 * row per line in which each squashed bracket sits in a half-em box (its blank
 * half hangs outside the box: a closer's to the right, an opener's to the left).
 */
function squashedLines(
  lines: string[],
  size: number,
  div: (style: Record<string, unknown>, ...children: CardChild[]) => CardNode,
): CardChild[] {
  const marks = lines.map((l) => {
    const cs = graphemes(l);
    return { cs, sq: squashLine(cs) };
  });
  if (marks.every((m) => m.sq.every((q) => !q))) return [lines.join('\n')];
  const half = size / 2;
  return marks.map(({ cs, sq }) => {
    if (sq.every((q) => !q)) return div({}, cs.join(''));
    const parts: CardChild[] = [];
    let run = '';
    cs.forEach((c, i) => {
      if (!sq[i]) {
        run += c;
        return;
      }
      if (run) parts.push(run);
      run = '';
      parts.push(
        sq[i] === 'r'
          ? div({ width: half, flexShrink: 0 }, c)
          : div({ width: half, flexShrink: 0 }, div({ marginLeft: -half, flexShrink: 0 }, c)),
      );
    });
    if (run) parts.push(run);
    return div({ flexDirection: 'row' }, ...parts);
  });
}

/** Options for a block at a squeeze step: each step sizes down by 12% (not below min) and loses a line. */
function squeezed<T extends FitOptions>(o: T, squeeze: number): T {
  // A one-line clamp at a fixed size (footer, masthead, kicker) keeps its size: the layout draws it at that size.
  if (!squeeze || (o.max === o.min && o.maxLines === 1)) return o;
  const min = Math.max(8, Math.round(o.min * 0.92 ** squeeze));
  return {
    ...o,
    max: Math.max(min, Math.round(o.max * 0.88 ** squeeze)),
    min,
    maxLines: Math.max(1, o.maxLines - squeeze),
  };
}

function makeKit(format: CardFormat, theme: Theme, squeeze = 0, numbers: NumberStyle = {}): LayoutKit {
  const spec = FORMATS[format];
  const div = (style: Record<string, unknown>, ...children: CardChild[]): CardNode => ({
    type: 'div',
    props: {
      style: { display: 'flex', ...style },
      children: children.filter((c) => c !== null && c !== undefined && c !== false),
    },
  });
  const block: LayoutKit['block'] = (text, o) => {
    const weight = o.weight ?? 400;
    const lineHeight = o.lineHeight ?? 1.3;
    const fitted = fitText(text, squeezed({ ...o, weight, lineHeight }, squeeze));
    const node = div(
      {
        flexDirection: 'column',
        flexShrink: 0,
        fontSize: fitted.size,
        fontWeight: weight,
        color: o.color ?? theme.colors.ink,
        lineHeight,
        whiteSpace: 'pre',
        ...o.style,
      },
      // Our breaks, not satori's: lines joined by \n in a `pre` box (no soft
      // wrapping). One text node per block, not a box per line: satori's cost
      // grows with the number of elements — unless punctuation is squashed.
      ...squashedLines(fitted.lines, fitted.size, div),
    );
    return {
      node,
      height: fitted.lines.length * fitted.size * lineHeight,
      size: fitted.size,
      lines: fitted.lines,
    };
  };
  return {
    format: spec,
    theme,
    squeeze,
    px: (n) => Math.round(n * spec.scale),
    el: (type, style, ...children) => ({ type, props: { style, children: children.filter(Boolean) } }),
    div,
    fit: (text, o) => fitText(text, squeezed(o, squeeze)),
    measure: (text, size, weight = 400) => measure(text, { size, weight }),
    number: (n) => formatNumber(n, numbers),
    figure: (value, unit) => numberParts(value, unit, numbers),
    change: (c) => formatChange(c, numbers),
    quote: (text, style) => wrapQuote(text, style),
    block,
    text: (text, o) => block(text, o).node,
  };
}

function strings(node: CardChild | CardChild[], out: string[] = []): string[] {
  if (Array.isArray(node)) for (const c of node) strings(c, out);
  else if (typeof node === 'string') out.push(node);
  else if (node && typeof node === 'object') strings(node.props.children as CardChild | CardChild[], out);
  return out;
}

/** The element tree of a card (for rendering, the HTML peer in the bench, and tests). */
export async function cardTree(job: CardJob, squeeze = 0): Promise<CardNode> {
  const layout = await loadLayout(job.templatesDir, job.kind);
  const theme = loadTheme(job.templatesDir, job.brand);
  const tree = layout(job.data, makeKit(job.format, theme, squeeze, job.numbers));
  tree.props.style = { boxSizing: 'border-box', fontFamily: FONT_FAMILY, ...tree.props.style };
  for (const s of strings(tree)) {
    const ch = firstMissingGlyph(s);
    if (ch)
      throw new BroadsheetError('CARD_MISSING_GLYPH', {
        char: ch,
        codePoint: codePointLabel(ch),
        card: job.id,
      });
  }
  return tree;
}

/**
 * satori's SVG of a card. Without embedded fonts (the glyph-cache renderer and
 * the overflow check) the plain text is laid out by text-plan.ts and satori
 * lays out only the boxes; `ownText: false` leaves the text to satori
 * (cardSvg's `satoriAlone`, which the tests compare with).
 */
async function satoriSvg(
  job: CardJob,
  tree: CardNode,
  embedFont: boolean,
  { ownText = true }: { ownText?: boolean } = {},
): Promise<string> {
  const { width, height } = FORMATS[job.format];
  const missing: string[] = [];
  const fallback = strings(tree).some(usesFallback);
  const plan = ownText && !embedFont && !fallback ? await planTexts(tree) : undefined;
  const placed = new Map<string, { left: number; top: number }>();
  const svg = await satori((plan?.tree ?? tree) as unknown as Parameters<typeof satori>[0], {
    width,
    height,
    fonts: satoriFontList(fallback),
    embedFont,
    loadAdditionalAsset: async (code, segment) => {
      if (code === 'emoji') return emojiDataUri(segment) ?? '';
      if (segment.trim()) missing.push(segment);
      return [];
    },
    onNodeDetected: plan
      ? (n) => {
          if (typeof n.key === 'string' && plan.taken.has(n.key)) placed.set(n.key, n);
        }
      : undefined,
  });
  if (missing.length) {
    const ch = [...missing[0]!.trim()][0]!;
    throw new BroadsheetError('CARD_MISSING_GLYPH', {
      char: ch,
      codePoint: codePointLabel(ch),
      card: job.id,
    });
  }
  if (!plan) return svg;
  // An element satori did not report or draw: the card laid out by satori alone.
  return (
    insertTexts(svg, plan, placed, { width, height }) ?? satoriSvg(job, tree, embedFont, { ownText: false })
  );
}

/**
 * What a worker's first card would otherwise do before drawing: satori's parse
 * of the primary fonts (its font cache is keyed by the satoriFontList array)
 * and the metrics of both weights, for a worker started before its batch is
 * known (index.ts startCards). Draws nothing.
 */
export async function warmRenderer(): Promise<void> {
  measure('字', { size: 16, weight: 400 });
  measure('字', { size: 16, weight: 700 });
  const text = { type: 'div', props: { style: { fontFamily: FONT_FAMILY, fontSize: 8 }, children: '字' } };
  await satori(text as unknown as Parameters<typeof satori>[0], {
    width: 8,
    height: 8,
    fonts: satoriFontList(),
  });
}

/** The page padding of a layout's root box: what text must stay inside. */
function safeArea(tree: CardNode, width: number, height: number) {
  const st = tree.props.style ?? {};
  const pad = Number(st.padding ?? 0) || 0;
  const side = (name: string) => (st[name] === undefined ? pad : Number(st[name]) || 0);
  return {
    left: side('paddingLeft'),
    top: side('paddingTop'),
    right: width - side('paddingRight'),
    bottom: height - side('paddingBottom'),
  };
}

const MAX_SQUEEZE = 3;

/**
 * The card's SVG. Laid out, then checked: text outside the safe area or on other
 * text makes the layout squeeze (size down, fewer lines, clamp) and try again;
 * after MAX_SQUEEZE steps the card fails with CARD_OVERFLOW — never silently.
 */
export async function cardSvg(
  job: CardJob,
  opts: { embedFont?: boolean; satoriAlone?: boolean } = {},
): Promise<string> {
  const { width, height } = FORMATS[job.format];
  const alone = opts.satoriAlone === true;
  for (let squeeze = 0; ; squeeze++) {
    const tree = await cardTree(job, squeeze);
    // Photos and portraits reach satori as stand-ins of their size (stand-ins.ts).
    const { tree: laid, restore } = alone ? { tree, restore: (s: string) => s } : standInImages(tree);
    const plain = await satoriSvg(job, laid, false, { ownText: !alone });
    const over = findOverflow(plain, safeArea(tree, width, height));
    if (over && squeeze < MAX_SQUEEZE) continue;
    if (over)
      throw new BroadsheetError('CARD_OVERFLOW', {
        card: job.id,
        format: job.format,
        text: over.text,
        detail:
          over.kind === 'outside' ? 'runs outside the safe area' : `overlaps "${over.other?.text ?? ''}"`,
      });
    return restore(stripUnusedMasks(opts.embedFont === false ? plain : await satoriSvg(job, laid, true)));
  }
}

/**
 * satori emits an overflow <mask> for every element whether or not anything
 * references it; resvg would parse them all. Keep only the referenced ones.
 */
function stripUnusedMasks(svg: string): string {
  const used = new Set(Array.from(svg.matchAll(/mask="url\(#([^)]+)\)"/g), (m) => m[1]));
  return svg.replace(/<mask id="([^"]+)">(?:(?!<\/mask>).)*<\/mask>/g, (m, id: string) =>
    used.has(id) ? m : '',
  );
}

// Pixel buffers for the glyph-cache renderer, reused once their PNG is encoded
// (a fresh 3 MB buffer per card costs its page faults and GC every time). Each
// is as large as the largest format (a story card's 8 MB) and a card draws
// into its first part, so a worker that moves on to another format, or a
// rebuild's worker drawing one card of each, faults its pages in once (~3 ms
// a MB here), not again for every size. One per card in flight: at most two.
const MAX_CARD_BYTES = Math.max(...Object.values(FORMATS).map((f) => f.width * f.height * 4));
const spare: Uint8Array[] = [];

/** Raw RGBA pixels of a card, by the job's renderer. */
export async function cardPixels(
  job: CardJob,
  into?: Uint8Array,
): Promise<{ pixels: Uint8Array; width: number; height: number; bitmap?: boolean }> {
  const { width, height } = FORMATS[job.format];
  if ((job.renderer ?? DEFAULT_CARD_RENDERER) === 'glyphcache') {
    // The photo decodes on libuv's threads while satori lays the card out (raster.ts).
    const photo = (job.data as { photo?: { src?: unknown } }).photo?.src;
    if (typeof photo === 'string') predecodePhoto(photo);
    const r = await rasterize(await cardSvg(job, { embedFont: false }), width, height, into);
    if (r) return r;
    // Something raster.ts does not draw (text under a mask, a transform…): outlines through resvg.
  }
  const svg = await cardSvg(job);
  // No system fonts: text is already paths, and scanning them costs ≈20 ms a card.
  const img = new Resvg(svg, { font: { loadSystemFonts: false } }).render();
  return { pixels: img.pixels, width: img.width, height: img.height };
}

export async function renderCard(job: CardJob): Promise<RenderedCard> {
  const { width, height } = FORMATS[job.format];
  const buf =
    (job.renderer ?? DEFAULT_CARD_RENDERER) === 'glyphcache'
      ? (spare.pop() ?? new Uint8Array(MAX_CARD_BYTES))
      : undefined;
  try {
    const img = await cardPixels(job, buf?.subarray(0, width * height * 4));
    const png = encodePng(img.pixels, img.width, img.height, cardPngLevel(job.format, job.pngCompression), {
      // A card with a photo or portrait has thousands of colours: straight to RGB.
      truecolour: img.bitmap,
      indexedLevel: job.pngCompression,
    });
    return { png, width, height };
  } finally {
    if (buf && spare.length < 2) spare.push(buf);
  }
}
