import { editionItems } from '../../src/cards/items.ts';
import type { QuoteCardData } from '../../src/cards/layout-api.ts';
import {
  articlePhoto,
  photoFor,
  portraitFor,
  quotePortrait,
  type SourcePhoto,
} from '../../src/cards/photos/index.ts';
import type { CardJob } from '../../src/cards/render.ts';
import { loadContent } from '../../src/content/load.ts';
import type { Context } from '../../src/context.ts';
import { selectEdition } from '../../src/edition/select.ts';

/**
 * The cards a build of the sample edition draws (src/cards/index.ts), as
 * jobs: an article's photo cropped to each format's slot, a quote's round
 * portrait. Photo crops are cached under ctx's out/.cache/ (give it a folder
 * of its own). Used by bench/cards.ts and the card tests.
 */
export async function sampleCards(ctx: Context) {
  const { config, paths } = ctx;
  const edition = await selectEdition(await loadContent(paths.content), config, {});
  const items = editionItems(edition, {
    kinds: config.cards.kinds,
    contentDir: paths.content,
    brandUrl: config.brand.url,
  });
  const brand = { name: config.brand.name, url: config.brand.url, colors: config.brand.colors };
  const sources = new Map<string, { photo?: SourcePhoto; portrait?: QuoteCardData['portrait'] }>();
  for (const it of items) {
    const art =
      it.kind === 'article' ? edition.articles.find((a) => a.id === it.itemId && a.image) : undefined;
    const quoted =
      it.kind === 'quote'
        ? edition.articles.find((a) => `${a.id}-quote` === it.itemId && a.quote?.portrait)
        : undefined;
    sources.set(it.itemId, {
      photo: art ? await articlePhoto(art, ctx) : undefined,
      portrait: quoted
        ? await portraitFor(await quotePortrait(quoted, ctx), ctx, quoted.quote!.portrait!.src)
        : undefined,
    });
  }
  const dataFor = async (it: (typeof items)[number], format: CardJob['format']) => {
    const src = sources.get(it.itemId)!;
    if (src.photo) return { ...it.data, photo: await photoFor(src.photo, format, ctx, '') };
    if (src.portrait) return { ...it.data, portrait: src.portrait };
    return it.data;
  };
  const jobsFor = async (formats: readonly CardJob['format'][]): Promise<CardJob[]> => {
    const out: CardJob[] = [];
    for (const it of items)
      for (const format of formats)
        out.push({
          id: `${it.itemId}/${format}`,
          kind: it.kind,
          format,
          data: (await dataFor(it, format)) as never,
          templatesDir: paths.templates,
          brand,
          pngCompression: config.cards.pngCompression,
          renderer: config.cards.renderer,
        });
    return out;
  };
  return { edition, items, brand, jobsFor };
}
