import type { Messages } from './types.ts';

/**
 * The masthead date from its parts, so ICU versions cannot move the commas:
 * en-GB "Wednesday 10 December 2025" (as British papers print it), en-US
 * "Wednesday, December 10, 2025".
 */
const dateIn = (locale: 'en-GB' | 'en-US') => (day: string) => {
  const parts = new Intl.DateTimeFormat(locale, {
    timeZone: 'UTC',
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).formatToParts(new Date(`${day}T12:00:00Z`));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return locale === 'en-GB'
    ? `${p.weekday} ${p.day} ${p.month} ${p.year}`
    : `${p.weekday}, ${p.month} ${p.day}, ${p.year}`;
};

const base: Omit<Messages, 'locale' | 'lang' | 'date'> = {
  fontStack: "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif",
  quoteStyle: 'en',
  cjk: false,
  subject: '{{ lead.title }}{% if second %} | {{ second.title }}{% endif %}',
  preheader: '{{ more | join: " | " }}',
  headlineSep: ' | ',
  metaSep: ' · ',
  authorSep: ', ',
  defaultName: 'reader',
  greeting: ['Good morning, ', '. Here is today’s news.'],
  viewOnline: 'View in browser',
  lead: 'Top story',
  topStories: 'Today’s stories',
  otherStories: 'More news',
  readMore: 'Read the full story →',
  quoteLabel: 'Expert view',
  statsMark: 'In numbers',
  statsMore: 'All the numbers →',
  minutes: (n) => `${n} min read`,
  why: (brand, title) => ['You are receiving this because ', ` subscribed to ${brand} ${title}.`],
  unsubscribe: 'Unsubscribe',
  preferences: 'Preferences',
  website: (brand) => `${brand} website`,
  textLink: (label) => `${label}: `,
  fromName: (brand, title) => `${brand} ${title}`,
  listName: (title) => title,
  archiveSuffix: '',
  colon: ': ',
  paren: [' (', ')'],
  attribution: (by, role) => `— ${by}, ${role}`,
  kicker: (k) => `[${k}] `,
};

export const enGB: Messages = { ...base, locale: 'en-GB', lang: 'en-GB', date: dateIn('en-GB') };
export const enUS: Messages = { ...base, locale: 'en-US', lang: 'en-US', date: dateIn('en-US') };
