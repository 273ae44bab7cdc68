import type { Article, StatSet } from '../content/model.ts';
import type { EmailLocale } from '../email/locales/types.ts';

/** The locales the digest has message catalogs for (src/email/locales/). */
export type Locale = EmailLocale;

/** One issue of a configured edition: what the digest and the cards are made from. */
export interface Edition {
  /** `<name>-<yyyy-mm-dd>`, e.g. daily-2025-12-10; also the out/ folder name. */
  id: string;
  /** The configured edition name (key under `editions:`), e.g. daily. */
  name: string;
  /** The calendar day in the edition's time zone, yyyy-mm-dd. */
  date: string;
  timezone: string;
  locale: Locale;
  /** Display title of the edition, e.g. 每日簡報. */
  title: string;
  /** Ranked: the first is the lead story. */
  articles: Article[];
  stats: StatSet[];
  /** Articles of the day not picked (over the configured maximum), by id. */
  leftOut: string[];
}
