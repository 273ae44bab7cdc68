import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { walk } from '../util/walk.ts';

export const MAX_FILE_BYTES = 1_000_000;

/** All files under `dir` with one of `exts`, sorted for stable reports. Missing dir → []. */
export async function listFiles(dir: string, exts: readonly string[]): Promise<string[]> {
  return (await walk(dir))
    .filter((e) => e.isFile() && !e.name.startsWith('.') && exts.includes(extname(e.name).toLowerCase()))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

export type TextRead =
  | { ok: true; text: string }
  | { ok: false; code: 'CONTENT_EMPTY' | 'CONTENT_BINARY' | 'CONTENT_TOO_LARGE'; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Read a content file as UTF-8 text, refusing empty, oversized and binary files. */
export async function readText(file: string): Promise<TextRead> {
  const { size } = await stat(file);
  if (size > MAX_FILE_BYTES)
    return { ok: false, code: 'CONTENT_TOO_LARGE', message: `${size} bytes; at most ${MAX_FILE_BYTES}` };
  const buf = await readFile(file);
  if (buf.includes(0))
    return { ok: false, code: 'CONTENT_BINARY', message: 'contains NUL bytes (a binary file?)' };
  let text: string;
  try {
    text = utf8.decode(buf);
  } catch {
    return { ok: false, code: 'CONTENT_BINARY', message: 'is not valid UTF-8 (saved as Big5 or binary?)' };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return { ok: false, code: 'CONTENT_EMPTY', message: 'the file is empty' };
  return { ok: true, text };
}
