import type { z } from 'zod';

/** `groups[0].stats[1].value` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

const show = (v: unknown) => {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
};

/** A message a newsroom editor can act on, e.g. `expected number, received "157.6萬"`. */
export function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `required field is missing (expected ${issue.expected})`
        : `expected ${issue.expected}, received ${show(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, received ${show(issue.input)}`;
    default:
      return issue.message;
  }
}

/** A hint per kind of problem: what to type to fix it. */
export function issueHint(issue: z.core.$ZodIssue, field: string): string {
  const last = String(issue.path.at(-1) ?? '');
  if (issue.code === 'invalid_type' && issue.expected === 'number' && typeof issue.input === 'string')
    return `write the number alone (e.g. 157.6) and put the unit in "unit"; keep the printed form in "display"`;
  if (issue.code === 'invalid_type' && issue.input === undefined)
    return `add "${last}" to ${field.includes('.') || field.includes('[') ? 'this entry' : 'the file'}`;
  if (issue.code === 'unrecognized_keys')
    return 'remove the field or check its spelling against README.md § Content';
  if (/offset/.test(issue.message)) return 'add the offset, e.g. 2025-12-10T07:30:00+08:00';
  if (/http/.test(issue.message)) return 'use a full https:// link to the story';
  if (/control character/.test(issue.message))
    return 'delete the invisible character (often pasted from Word or a PDF)';
  if (/too long/.test(issue.message)) return 'shorten it; long text belongs in the Markdown body';
  if (/impossible date/.test(issue.message)) return 'check the day and month';
  return 'see README.md § Content for the field format';
}
