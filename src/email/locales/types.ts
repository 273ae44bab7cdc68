// A message catalog: every fixed string of the digest for one locale. The
// templates print these (t.*); nothing in templates/email is language-specific.
import type { QuoteStyle } from '../../util/quotes.ts';

export const EMAIL_LOCALES = ['zh-Hant-HK', 'zh-Hans', 'en-GB', 'en-US'] as const;
export type EmailLocale = (typeof EMAIL_LOCALES)[number];

export interface Messages {
  locale: EmailLocale;
  /** The <html lang>. */
  lang: string;
  /** System fonts only (no web font is fetched). */
  fontStack: string;
  quoteStyle: QuoteStyle | 'en';
  /** Counting rule for the subject warning: CJK characters, or Latin (twice as many fit). */
  cjk: boolean;
  /** The masthead date of a yyyy-mm-dd day. */
  date: (day: string) => string;
  /** Default subject / preheader templates (Liquid; see email.subject). */
  subject: string;
  preheader: string;
  /** Joins headlines in subject and preheader. */
  headlineSep: string;
  /** Joins byline, source and time. */
  metaSep: string;
  /** Joins authors. */
  authorSep: string;
  defaultName: string;
  /** Text around %%name%% in the greeting line. */
  greeting: [string, string];
  viewOnline: string;
  lead: string;
  topStories: string;
  /** Heading for stories whose section has no label of its own. */
  otherStories: string;
  readMore: string;
  quoteLabel: string;
  /** 數讀 mark in stat-set headings and the link to the full set. */
  statsMark: string;
  statsMore: string;
  minutes: (n: number) => string;
  /** Text around %%email%% in "why you get this". */
  why: (brand: string, title: string) => [string, string];
  unsubscribe: string;
  /** The footer link to the reader's preference centre (/p/<token>). */
  preferences: string;
  website: (brand: string) => string;
  /** "Label: url" in the text part. */
  textLink: (label: string) => string;
  /** From display name and List-Id phrase for this variant. */
  fromName: (brand: string, title: string) => string;
  listName: (title: string) => string;
  /** Path segment of this variant's archive page under archive/<id>/ ('' = the edition's own). */
  archiveSuffix: string;
  /** Between a label and its text; around a period. */
  colon: string;
  paren: [string, string];
  /** The quote's byline. */
  attribution: (by: string, role: string) => string;
  /** Brackets around a kicker in the text part. */
  kicker: (k: string) => string;
}
