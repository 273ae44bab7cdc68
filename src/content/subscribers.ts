import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import type { Problem } from './problems.ts';

// content/subscribers.csv: email,name,locale,topics (topics separated by ";").
// `broadsheet subscribers import <csv>` reads this format into the store; the
// embedded default imports content/subscribers.csv once into an empty store.

// Control characters (CR/LF included) never survive into a stored field: a
// name is later a header phrase, and a header must stay one header.
const clean = (s: string) =>
  s
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();

export const subscriberRowSchema = z.object({
  email: z
    .string()
    .transform((e) => e.trim().toLowerCase())
    .pipe(z.email().max(254)),
  name: z
    .string()
    .optional()
    .transform((s) => (s ? clean(s) : undefined))
    .pipe(z.string().max(120).optional())
    .transform((s) => s || undefined),
  locale: z
    .string()
    .trim()
    .optional()
    .transform((s) => s || undefined)
    .pipe(
      z
        .string()
        .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { message: 'not a locale tag like zh-Hant-HK' })
        .optional(),
    ),
  topics: z
    .string()
    .optional()
    .transform((t) => (t ? t.split(';').map(clean).filter(Boolean) : [])),
});

export type SubscriberRow = z.infer<typeof subscriberRowSchema>;

export interface SubscriberCsv {
  rows: (SubscriberRow & { line: number })[];
  problems: Problem[];
  /** Later rows for an address already seen (after normalising), by line. */
  duplicates: { line: number; email: string; first: number }[];
}

/** Read a subscriber CSV: bad rows are reported by line (and skipped), the rest returned. */
export async function readSubscribersCsv(file: string, display = file): Promise<SubscriberCsv> {
  const text = await readFile(file, 'utf8');
  return parseSubscribersCsv(text, display);
}

export function parseSubscribersCsv(text: string, display: string): SubscriberCsv {
  const records = parse(text, {
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    skip_empty_lines: true,
    trim: true,
    bom: true,
    info: true,
    relax_column_count: true,
  }) as {
    record: Record<string, string>;
    info: { lines: number };
  }[];
  const rows: SubscriberCsv['rows'] = [];
  const problems: Problem[] = [];
  const duplicates: SubscriberCsv['duplicates'] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of records) {
    const r = subscriberRowSchema.safeParse(record);
    if (!r.success) {
      const i = r.error.issues[0]!;
      problems.push({
        code: 'CONTENT_FIELD',
        file: display,
        line: info.lines,
        field: String(i.path[0] ?? ''),
        message: i.message,
        hint: 'fix or delete the row',
      });
    } else if (seen.has(r.data.email)) {
      duplicates.push({ line: info.lines, email: r.data.email, first: seen.get(r.data.email)! });
    } else {
      seen.set(r.data.email, info.lines);
      rows.push({ ...r.data, line: info.lines });
    }
  }
  return { rows, problems, duplicates };
}
