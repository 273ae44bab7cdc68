import { relative } from 'node:path';

/** A path as the user would type it: relative to the working folder when inside it, else absolute. */
export const displayPath = (abs: string, cwd = process.cwd()) => {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') ? rel : abs;
};
