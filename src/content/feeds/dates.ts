import { formatLocal, localToInstant } from '../../util/zoned.ts';

// Feed dates → ISO 8601 with an offset. RSS uses RFC 822 ("Wed, 10 Dec 2025
// 07:30:00 +0800"), Atom and JSON Feed use RFC 3339. Date.parse is not used on
// its own: V8 reads "garbage 2025" as 1 January and zone-less times in the
// machine's zone, which would file an article under the wrong day.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// RFC 822 zone names, plus HKT because Hong Kong feeds use it.
const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
  hkt: 480,
};

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const RFC822 =
  /^(?:[a-z]{3,9},?\s+)?(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]{1,5})?$/i;

interface Parts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  ms: number;
}

const validParts = (p: Parts) => {
  const dt = new Date(Date.UTC(p.y, p.mo - 1, p.d));
  return (
    dt.getUTCFullYear() === p.y &&
    dt.getUTCMonth() === p.mo - 1 &&
    dt.getUTCDate() === p.d &&
    p.h <= 23 &&
    p.mi <= 59 &&
    p.s <= 60
  );
};

/**
 * Wall-clock parts with a known offset (minutes), or in `timeZone` when the
 * feed gave none (a time in a DST gap or overlap resolves as the scheduler's do).
 */
function toInstant(p: Parts, offset: number | undefined, timeZone: string): number {
  const second = Math.min(p.s, 59);
  if (offset !== undefined) return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, second, p.ms) - offset * 60_000;
  const local = { year: p.y, month: p.mo, day: p.d, hour: p.h, minute: p.mi, second };
  return localToInstant(local, timeZone).ms + p.ms;
}

const parseOffset = (z: string): number => {
  if (/^z$/i.test(z)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(z)!;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
};

/**
 * Parse a feed date. A date without a zone is read in `timeZone` (the newsroom's
 * zone: that is what a Hong Kong feed omitting it means). Unreadable → undefined.
 */
export function parseFeedDate(raw: string | undefined, timeZone: string): Date | undefined {
  const s = raw?.trim();
  if (!s) return undefined;
  let m = ISO.exec(s);
  if (m) {
    const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
    const p = { y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +(m[4] ?? 0), mi: +(m[5] ?? 0), s: +(m[6] ?? 0), ms };
    return validParts(p) ? new Date(toInstant(p, m[8] ? parseOffset(m[8]) : undefined, timeZone)) : undefined;
  }
  m = RFC822.exec(s);
  if (m) {
    const mo = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
    let y = +m[3]!;
    if (m[3]!.length === 2) y += y < 50 ? 2000 : 1900;
    const p = { y, mo, d: +m[1]!, h: +m[4]!, mi: +m[5]!, s: +(m[6] ?? 0), ms: 0 };
    const zone = m[7];
    let offset: number | undefined;
    if (zone) {
      offset = /^[+-]\d{4}$/.test(zone) ? parseOffset(zone) : ZONES[zone.toLowerCase()];
      if (offset === undefined) return undefined; // an unknown zone name: guessing could shift the day
    }
    return mo > 0 && validParts(p) ? new Date(toInstant(p, offset, timeZone)) : undefined;
  }
  return undefined;
}

/** 2025-12-10T07:30:00+08:00: the instant as wall-clock time in `timeZone`, with its offset. */
export const formatInZone = (date: Date, timeZone: string): string => formatLocal(date.getTime(), timeZone);
