import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BroadsheetError } from '../errors/index.ts';

// `.env` in the working directory, as .env.example promises. Node's own
// process.loadEnvFile reads it (no dependency) and never overrides a variable
// the real environment already has: the service manager's value wins.
// Node's parser skips lines it does not understand without a word, so a typo
// would silently drop a setting; the checker below names every such line first.

const ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=(.*)$/;

/** Lines of a .env text that Node's parser would skip or misread (1-based line numbers). */
export function envFileProblems(text: string): string[] {
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    const m = ASSIGNMENT.exec(line);
    if (!m) {
      problems.push(`line ${i + 1}: expected KEY=value, found ${JSON.stringify(line.slice(0, 40))}`);
      continue;
    }
    // A value opened with a quote may span lines (Node reads multi-line "…");
    // one never closed would swallow the rest of the file.
    const value = m[1]!.trim();
    const q = value[0];
    if (q !== '"' && q !== "'" && q !== '`') continue;
    if (value.length > 1 && value.indexOf(q, 1) > 0) continue;
    const start = i;
    while (++i < lines.length && !lines[i]!.includes(q));
    if (i >= lines.length) problems.push(`line ${start + 1}: the ${q} quote is never closed`);
  }
  return problems;
}

/**
 * Load `<cwd>/.env` when present. Returns the file loaded, or undefined.
 * Throws ENV_FILE_INVALID naming the file and each bad line.
 */
export function loadDotEnv(cwd = process.cwd()): string | undefined {
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    const bytes = readFileSync(file);
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    const detail =
      cause instanceof TypeError ? 'not UTF-8 text' : `unreadable (${(cause as NodeJS.ErrnoException).code})`;
    throw new BroadsheetError('ENV_FILE_INVALID', { file, problems: [detail] }, { cause });
  }
  const problems = envFileProblems(text);
  if (problems.length) throw new BroadsheetError('ENV_FILE_INVALID', { file, problems });
  process.loadEnvFile(file);
  return file;
}
