// The cron dialect Broadsheet schedules by: crontab(5) fields with an optional
// leading seconds field, as node-cron 4 reads them — numbers, `*`, ranges,
// steps, lists, month and weekday names, `?` for `*` in the day fields, 0 or 7
// for Sunday. We parse it ourselves because occurrences are computed here, not
// by node-cron (see occurrences.ts for why).
//
// Left out on purpose, and refused by `broadsheet check`:
// - node-cron's Quartz-style L, W, # and `L-n` day tokens (rare for a newsroom;
//   every extra token is more calendar code to get wrong);
// - restricting both day-of-month and day-of-week: crontab ORs them, node-cron
//   ANDs them, so the same line means two different schedules depending on
//   who reads it. Restrict one of the two.

export interface CronSpec {
  source: string;
  seconds: number[];
  minutes: number[];
  hours: number[];
  /** 1–31 */
  days: Set<number>;
  /** 1–12 */
  months: Set<number>;
  /** 0–6, Sunday = 0 */
  weekdays: Set<number>;
}

export class CronSyntaxError extends Error {}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Value of names[0]. */
  nameBase?: number;
}

const FIELDS: FieldDef[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 7, names: WEEKDAYS, nameBase: 0 },
];

function value(def: FieldDef, token: string): number {
  const lower = token.toLowerCase();
  if (def.names) {
    const full = def.names.findIndex((n) => lower === n || (lower.length > 3 && lower.startsWith(n)));
    if (full >= 0) return full + def.nameBase!;
  }
  if (!/^\d+$/.test(token)) throw new CronSyntaxError(`${def.name}: "${token}" is not a number`);
  const n = Number(token);
  if (n < def.min || n > def.max)
    throw new CronSyntaxError(`${def.name}: ${n} is out of range ${def.min}-${def.max}`);
  return n;
}

/** One field → its sorted values; `star` says whether it was unrestricted. */
function field(def: FieldDef, text: string): { values: number[]; star: boolean } {
  if (text.split(',').some((p) => /#|^L(W|-\d+)?$|^\d+[LW]$|^[a-z]{3}L$/i.test(p)))
    throw new CronSyntaxError(`${def.name}: "${text}" uses L, W or #, which Broadsheet does not schedule by`);
  const out = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    if (!part) throw new CronSyntaxError(`${def.name}: empty list item in "${text}"`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronSyntaxError(`${def.name}: "${part}" has two steps`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0)
        throw new CronSyntaxError(`${def.name}: step "${stepText}" must be a whole number above 0`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      if (range === '?' && !def.name.startsWith('day'))
        throw new CronSyntaxError(`${def.name}: "?" is only allowed in the day fields`);
      lo = def.min;
      hi = def.name === 'day of week' ? 6 : def.max;
      if (stepText === undefined) star = true;
    } else if (range!.includes('-')) {
      const [a, b, more] = range!.split('-');
      if (more !== undefined || !a || !b) throw new CronSyntaxError(`${def.name}: "${range}" is not a range`);
      lo = value(def, a);
      hi = value(def, b);
      if (hi < lo)
        throw new CronSyntaxError(`${def.name}: range "${range}" runs backwards; write it as two ranges`);
    } else {
      lo = value(def, range!);
      // `5/15` means 5, 20, 35, 50 (from 5 to the end), as in node-cron and Vixie cron.
      hi = stepText === undefined ? lo : def.name === 'day of week' ? 6 : def.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(def.name === 'day of week' && v === 7 ? 0 : v);
  }
  return { values: [...out].sort((a, b) => a - b), star };
}

/** Parse a 5- or 6-field expression; throws CronSyntaxError with the field named. */
export function parseCron(source: string): CronSpec {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6)
    throw new CronSyntaxError(
      `expected 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${parts.length}`,
    );
  if (parts.length === 5) parts.unshift('0');
  const f = FIELDS.map((def, i) => field(def, parts[i]!));
  const [seconds, minutes, hours, days, months, weekdays] = f as [
    (typeof f)[0],
    (typeof f)[0],
    (typeof f)[0],
    (typeof f)[0],
    (typeof f)[0],
    (typeof f)[0],
  ];
  if (!days.star && !weekdays.star)
    throw new CronSyntaxError(
      'restrict day of month or day of week, not both (crontab ORs them, node-cron ANDs them); put * in one',
    );
  // 31 February never comes: refuse it here rather than search nine years for it.
  const longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (!months.values.some((m) => days.values.some((d) => d <= longest[m - 1]!)))
    throw new CronSyntaxError('day of month and month never meet on a real date');
  return {
    source,
    seconds: seconds.values,
    minutes: minutes.values,
    hours: hours.values,
    days: new Set(days.values),
    months: new Set(months.values),
    weekdays: new Set(weekdays.values),
  };
}

/** Whether a calendar day (in the job's zone) can have occurrences. */
export function matchesDay(spec: CronSpec, y: number, m: number, d: number): boolean {
  if (!spec.months.has(m) || !spec.days.has(d)) return false;
  return spec.weekdays.has(new Date(Date.UTC(y, m - 1, d)).getUTCDay());
}
