import { dateFormat } from '../util/intl.ts';

/** The calendar day (yyyy-mm-dd) of an instant in a time zone. */
export function dayIn(instant: string | Date, timeZone: string): string {
  const f = dateFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return f.format(typeof instant === 'string' ? new Date(instant) : instant);
}

const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

/**
 * 2025年12月10日 星期三 — the masthead date of a yyyy-mm-dd day (a calendar
 * day, so no time-zone maths); 2025年12月10日 with `weekday: false`.
 */
export function chineseDate(day: string, opts: { weekday?: boolean } = {}): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const date = `${y}年${m}月${d}日`;
  if (opts.weekday === false) return date;
  return `${date} 星期${WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]}`;
}

/** HH:mm of an instant in a time zone. */
export const timeIn = (iso: string, timeZone: string): string =>
  dateFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(iso));
