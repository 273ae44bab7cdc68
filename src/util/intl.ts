const cache = new Map<string, Intl.DateTimeFormat>();

/**
 * Intl.DateTimeFormat is costly to build (tens of µs, more with a time zone)
 * and cheap to reuse: build each locale + options once per process.
 */
export function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}\u0000${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    cache.set(key, f);
  }
  return f;
}
