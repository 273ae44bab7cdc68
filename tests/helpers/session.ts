// The review app's session plumbing as a browser sees it, for tests and benches
// that sign in over HTTP (or through app.request).

/**
 * The cookies a response sets, as a Cookie header: name=value pairs only, and
 * none that the response clears (an empty value, as sign-out sends).
 */
export const cookiesOf = (res: Response): string =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .filter((c) => !c.endsWith('='))
    .join('; ');

/** The CSRF token of the first form in a page, or '' when it has none. */
export const csrfIn = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
