// Message catalogs by locale. A locale picks the edition variant a reader gets:
// the Chinese editions convert into each other (zh-Hant-HK ⇄ zh-Hans), an
// English edition has only its English variant.
import { enGB, enUS } from './en.ts';
import type { EmailLocale, Messages } from './types.ts';
import { zhHans } from './zh-Hans.ts';
import { zhHantHK } from './zh-Hant-HK.ts';

export { EMAIL_LOCALES, type EmailLocale, type Messages } from './types.ts';

const CATALOGS: Record<EmailLocale, Messages> = {
  'zh-Hant-HK': zhHantHK,
  'zh-Hans': zhHans,
  'en-GB': enGB,
  'en-US': enUS,
};

export const messagesFor = (locale: string): Messages =>
  CATALOGS[locale as EmailLocale] ?? CATALOGS['zh-Hant-HK'];

const isChinese = (l: string) => l.startsWith('zh');

/** The variants one edition is compiled in: its own locale first. */
export function variantsOf(editionLocale: string): EmailLocale[] {
  const own = messagesFor(editionLocale).locale;
  if (!isChinese(own)) return [own];
  return [own, own === 'zh-Hans' ? 'zh-Hant-HK' : 'zh-Hans'];
}

/** The variant a reader with `readerLocale` gets; anything unsupported gets the edition's own. */
export function variantFor(readerLocale: string | undefined, available: readonly string[]): string {
  const own = available[0]!;
  if (!readerLocale) return own;
  const exact = available.find((l) => l.toLowerCase() === readerLocale.toLowerCase());
  if (exact) return exact;
  if (/^zh-(Hans|CN|SG)/i.test(readerLocale) && available.includes('zh-Hans')) return 'zh-Hans';
  if (/^zh/i.test(readerLocale) && available.includes('zh-Hant-HK')) return 'zh-Hant-HK';
  return own;
}
