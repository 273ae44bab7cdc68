// HTTP for feeds with the limits a scheduled job needs: one deadline for the
// whole exchange (redirects and body included), a byte cap enforced while
// streaming (Content-Length can lie or be absent, and bodies arrive
// decompressed), redirects followed by hand so they can be counted and checked
// for http(s), and conditional GET so an unchanged feed costs a 304.
import { BroadsheetError } from '../../errors/index.ts';

export interface Validators {
  etag?: string;
  lastModified?: string;
}

export interface FetchOptions {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  /** Remembered from the last successful fetch of this URL. */
  validators?: Validators;
}

export type FetchResult =
  | { status: 'not-modified'; url: string }
  | { status: 'ok'; url: string; bytes: Uint8Array; contentType?: string; validators: Validators };

export const FETCH_DEFAULTS = { timeoutMs: 15_000, maxBytes: 5 * 1024 * 1024, maxRedirects: 5 } as const;

const ACCEPT =
  'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5';

const fail = (url: string, detail: string, cause?: unknown): BroadsheetError<'FEED_FETCH'> =>
  new BroadsheetError('FEED_FETCH', { url, detail }, { cause });

const isHttp = (u: URL) => u.protocol === 'http:' || u.protocol === 'https:';

async function readCapped(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw fail(url, `response is ${declared} bytes, over the ${maxBytes}-byte limit`);
  }
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Stop downloading now: cancelling the reader aborts the connection.
      await reader.cancel().catch(() => {});
      throw fail(url, `response exceeded the ${maxBytes}-byte limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

async function fetchOnce(
  url: URL,
  signal: AbortSignal,
  validators: Validators | undefined,
): Promise<Response> {
  const headers: Record<string, string> = { accept: ACCEPT, 'user-agent': 'Broadsheet/0.1 (feed ingest)' };
  if (validators?.etag) headers['if-none-match'] = validators.etag;
  if (validators?.lastModified) headers['if-modified-since'] = validators.lastModified;
  return fetch(url, { redirect: 'manual', signal, headers });
}

/** GET a feed. Every failure is FEED_FETCH naming the URL asked for. */
export async function fetchFeed(input: string, opts: FetchOptions): Promise<FetchResult> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let url: URL;
  try {
    url = new URL(input);
  } catch (err) {
    throw fail(input, 'not a valid URL', err);
  }
  try {
    for (let hops = 0; ; hops++) {
      if (!isHttp(url)) throw fail(input, `refusing to fetch ${url.protocol} URL ${url.href}`);
      const res = await fetchOnce(url, signal, opts.validators);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && location) {
        await res.body?.cancel();
        if (hops >= opts.maxRedirects)
          throw fail(input, `more than ${opts.maxRedirects} redirects (last to ${location})`);
        url = new URL(location, url);
        continue;
      }
      if (res.status === 304) {
        await res.body?.cancel();
        return { status: 'not-modified', url: url.href };
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw fail(input, `HTTP ${res.status} ${res.statusText}`.trim());
      }
      const bytes = await readCapped(res, input, opts.maxBytes);
      return {
        status: 'ok',
        url: url.href,
        bytes,
        contentType: res.headers.get('content-type') ?? undefined,
        validators: {
          etag: res.headers.get('etag') ?? undefined,
          lastModified: res.headers.get('last-modified') ?? undefined,
        },
      };
    }
  } catch (err) {
    if (err instanceof BroadsheetError) throw err;
    if (signal.aborted) throw fail(input, `timed out after ${opts.timeoutMs} ms`, err);
    // undici reports network failures as "fetch failed" with the real reason in `cause`.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw fail(
      input,
      cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err)),
      err,
    );
  }
}
