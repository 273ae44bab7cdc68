import { articleLoader } from './article.ts';
import { statSetLoader } from './statset.ts';
import type { ContentLoader } from './types.ts';

/** One line per loader. */
export const loaders: ContentLoader[] = [articleLoader, statSetLoader];
