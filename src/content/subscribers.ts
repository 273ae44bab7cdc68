import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { configShape } from '../config/schema.ts';
import { BroadsheetError } from '../errors/index.ts';
import { readCsvRecords } from './csv.ts';
import type { Problem } from './problems.ts';

// content/subscribers.csv: email,name,locale,topics (topics separated by ";").
// `broadsheet subscribers import <csv>` reads this format into the store; the
// embedded default imports content/subscribers.csv once into an empty store.
//
// Lenient per row (README.md § Content → Subscribers CSV): a malformed row (a
// stray or unclosed quote, the wrong number of fields) or an invalid field is
// reported at its physical line and skipped; every other row still loads. An
// unsupported locale does not cost the reader: the row is kept without a
// locale (the edition's language applies) and the line is reported.

/** The locales a digest can be rendered in: the config's `locale` values. */
export const LOCALES = configShape.locale.unwrap().options;
export type Locale = (typeof LOCALES)[number];

/** The supported locale for a tag, compared case-insensitively (zh-hant-hk → zh-Hant-HK). */
export const supportedLocale = (tag: string): Locale | undefined =>
  LOCALES.find((l) => l.toLowerCase() === tag.trim().toLowerCase());

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
    .optional()
    .transform((s, ctx) => {
      if (!s?.trim()) return undefined;
      const l = supportedLocale(s);
      if (!l)
        ctx.addIssue({
          code: 'custom',
          message: `locale "${s.trim()}" is not supported (${LOCALES.join(', ')})`,
        });
      return l;
    }),
  topics: z
    .string()
    .optional()
    .transform((t) => (t ? t.split(';').map(clean).filter(Boolean) : [])),
});

export type SubscriberRow = z.infer<typeof subscriberRowSchema>;

export interface SubscriberCsv {
  rows: (SubscriberRow & { line: number })[];
  /** Rows reported and skipped: malformed CSV or an invalid field. */
  problems: Problem[];
  /** Rows imported with a change, each reported: an unsupported locale dropped. */
  warnings: Problem[];
  /** Later rows for an address already seen (after normalising), by line. */
  duplicates: { line: number; email: string; first: number }[];
}

/** Read a subscriber CSV: bad rows are reported by line (and skipped), the rest returned. */
export async function readSubscribersCsv(file: string, display = file): Promise<SubscriberCsv> {
  return parseSubscribersCsv(await readFile(file), display);
}

const COLUMNS = ['email', 'name', 'locale', 'topics'] as const;

export function parseSubscribersCsv(input: Buffer | string, display: string): SubscriberCsv {
  const csv = readCsvRecords(input);
  const out: SubscriberCsv = { rows: [], problems: [], warnings: [], duplicates: [] };
  const header = csv.header?.fields.map((h) => h.trim().toLowerCase());
  const headerFault = csv.faults.find((f) => !csv.header || f.line <= csv.header.line);
  if (!header || headerFault)
    throw new BroadsheetError('SUBSCRIBERS_CSV_HEADER', {
      file: display,
      detail: headerFault ? `line ${headerFault.line}: ${headerFault.message}` : 'the file is empty',
    });
  if (!header.includes('email'))
    throw new BroadsheetError('SUBSCRIBERS_CSV_HEADER', {
      file: display,
      detail: `line ${csv.header!.line} (${csv.header!.fields.join(',')}) has no "email" column`,
    });
  const twice = header.find((h, i) => h && header.indexOf(h) !== i);
  if (twice)
    throw new BroadsheetError('SUBSCRIBERS_CSV_HEADER', {
      file: display,
      detail: `the column "${twice}" is named twice on line ${csv.header!.line}`,
    });

  for (const f of csv.faults)
    out.problems.push({ code: f.code, file: display, line: f.line, message: f.message, hint: f.hint });

  const seen = new Map<string, number>();
  for (const { fields, line } of csv.rows) {
    const record: Record<string, string> = {};
    header.forEach((h, i) => {
      if ((COLUMNS as readonly string[]).includes(h)) record[h] = fields[i]!;
    });
    let r = subscriberRowSchema.safeParse(record);
    if (!r.success && r.error.issues.every((i) => i.path[0] === 'locale')) {
      // Keep the reader, in the edition's language, and say so.
      out.warnings.push({
        code: 'CSV_LOCALE',
        file: display,
        line,
        field: 'locale',
        message: r.error.issues[0]!.message,
        hint: `imported without a locale (the edition's language applies); use ${LOCALES.join(' or ')}, or leave it empty`,
      });
      r = subscriberRowSchema.safeParse({ ...record, locale: '' });
    }
    if (!r.success) {
      const i = r.error.issues[0]!;
      out.problems.push({
        code: 'CONTENT_FIELD',
        file: display,
        line,
        field: String(i.path[0] ?? ''),
        message: i.message,
        hint: 'fix or delete the row',
      });
    } else if (seen.has(r.data.email)) {
      out.duplicates.push({ line, email: r.data.email, first: seen.get(r.data.email)! });
    } else {
      seen.set(r.data.email, line);
      out.rows.push({ ...r.data, line });
    }
  }
  out.problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return out;
}
