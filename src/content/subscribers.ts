import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import type { Problem } from './problems.ts';

// content/subscribers.csv: email,name,locale,topics (topics separated by ";").
// Until the store lands this file is the list; later it is what `subscribers import` reads.

export const subscriberRowSchema = z.object({
  email: z.email().transform((e) => e.toLowerCase()),
  name: z
    .string()
    .trim()
    .max(120)
    .optional()
    .transform((s) => s || undefined),
  locale: z
    .string()
    .trim()
    .max(35)
    .optional()
    .transform((s) => s || undefined),
  topics: z
    .string()
    .optional()
    .transform((t) =>
      t
        ? t
            .split(';')
            .map((x) => x.trim())
            .filter(Boolean)
        : [],
    ),
});

export type SubscriberRow = z.infer<typeof subscriberRowSchema>;

export async function readSubscribersCsv(
  file: string,
  display = file,
): Promise<{ rows: SubscriberRow[]; problems: Problem[] }> {
  const text = await readFile(file, 'utf8');
  const records = parse(text, {
    columns: true,
    skip_empty_lines: true,
    trim: true,
    bom: true,
    info: true,
  }) as {
    record: Record<string, string>;
    info: { lines: number };
  }[];
  const rows: SubscriberRow[] = [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
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
    } else if (!seen.has(r.data.email)) {
      seen.add(r.data.email);
      rows.push(r.data);
    }
  }
  return { rows, problems };
}
