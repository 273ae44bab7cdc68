import { z } from 'zod';

/** An IANA time zone name that this Node's Intl knows. */
export const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not an IANA time zone (e.g. Asia/Hong_Kong)' },
);
