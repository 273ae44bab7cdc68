import { type StatSet, statSetSchema } from '../model.ts';
import { type ContentLoader, parseAndValidate } from './types.ts';

export const statSetLoader: ContentLoader = {
  name: 'statset',
  dir: 'stats',
  exts: ['.yaml', '.yml'],
  load({ display, rel, text }) {
    const { data, problems, lineOf } = parseAndValidate(statSetSchema, text, display);
    if (!data) return { problems };
    const set: StatSet = { ...data, sourcePath: rel };
    return { item: { type: 'statset', item: set }, problems, idLine: lineOf(['id']) };
  },
};
