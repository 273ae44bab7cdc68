import { z } from 'zod';

// C0/C1 control characters other than tab/newline, plus bidi overrides and
// zero-width no-break/BOM inside text: they corrupt headers, logs and layouts.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFEFF]/u;
const NEWLINE = /[\r\n]/;

export const firstControlChar = (s: string): string | undefined => {
  const m = CONTROL.exec(s);
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
};

/**
 * A single-line piece of display text: trimmed, non-empty, bounded, no control
 * characters. `<`, `&`, quotes, emoji, HKSCS and `{{ }}` are all fine: they
 * are data, and every output escapes them.
 */
export const line = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(max, { message: `too long: at most ${max} characters` })
    .superRefine((s, ctx) => {
      const c = firstControlChar(s);
      if (c) ctx.addIssue({ code: 'custom', message: `contains control character ${c}` });
      else if (NEWLINE.test(s)) ctx.addIssue({ code: 'custom', message: 'must be a single line' });
    });

/** Multi-line text (Markdown body, quotes): newlines allowed, controls not. */
export const block = (max: number) =>
  z
    .string()
    .max(max, { message: `too long: at most ${max} characters` })
    .superRefine((s, ctx) => {
      const c = firstControlChar(s);
      if (c) ctx.addIssue({ code: 'custom', message: `contains control character ${c}` });
    });

/** http(s) only: javascript:, data:, file: and relative URLs are refused. */
export const httpUrl = z
  .string()
  .trim()
  .max(2048, { message: 'too long: at most 2048 characters' })
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'http:' || u.protocol === 'https:') && Boolean(u.hostname);
      } catch {
        return false;
      }
    },
    { message: 'must be an absolute http:// or https:// URL' },
  );

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

const validYmd = (y: number, m: number, d: number) => {
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
};

/** ISO 8601 date-time that carries its offset, and exists on the calendar. */
export const isoDateTime = z
  .string()
  .trim()
  .superRefine((s, ctx) => {
    const m = ISO_WITH_OFFSET.exec(s);
    if (!m) {
      const noOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s);
      ctx.addIssue({
        code: 'custom',
        message: noOffset
          ? 'date-time has no UTC offset (ambiguous)'
          : 'must be an ISO 8601 date-time with offset, e.g. 2025-12-10T07:30:00+08:00',
      });
      return;
    }
    const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as number[];
    if (!validYmd(y!, mo!, d!) || h! > 23 || mi! > 59 || se! > 59 || Number.isNaN(Date.parse(s))) {
      ctx.addIssue({ code: 'custom', message: `impossible date-time ${s}` });
    }
  });

/** A calendar day yyyy-mm-dd that exists. */
export const isoDate = z
  .string()
  .trim()
  .superRefine((s, ctx) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    if (!m) ctx.addIssue({ code: 'custom', message: 'must be a date yyyy-mm-dd, e.g. 2025-12-10' });
    else if (!validYmd(Number(m[1]), Number(m[2]), Number(m[3])))
      ctx.addIssue({ code: 'custom', message: `impossible date ${s}` });
  });

/** Ids become folder names (out/<edition>/cards/<id>/) and URL parts. */
export const slugId = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,79}$/, {
    message: 'must be 1–80 characters of a–z, 0–9, ".", "_" or "-", starting with a letter or digit',
  });
