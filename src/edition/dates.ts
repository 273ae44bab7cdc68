import { dateFormat } from '../util/intl.ts';

/** The calendar day (yyyy-mm-dd) of an instant in a time zone. */
export function dayIn(instant: string | Date, timeZone: string): string {
  const f = dateFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return f.format(typeof instant === 'string' ? new Date(instant) : instant);
}

const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

/** 2025年12月10日 星期三 — the masthead date of a yyyy-mm-dd day. */
export function chineseDate(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return `${y}年${m}月${d}日 星期${WEEKDAYS[wd]}`;
}
