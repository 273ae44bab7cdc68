import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.ts';

// Remote article photos, fetched at build time. Only the image's own URL is
// ever asked (a redirect must stay https on the same host); each answer is
// bounded in time, bytes and type; the bytes are cached on disk by URL and
// revalidated with ETag / Last-Modified; a failure is remembered for
// `failureTtlMs`, so an offline build costs at most one timeout per URL.

export interface PhotoFetchOptions {
  cacheDir: string;
  timeoutMs: number;
  maxBytes: number;
  failureTtlMs: number;
  /** Test-only: also allow http://127.0.0.1 (a loopback image server). */
  allowHttpLoopback?: boolean;
  now?: () => number;
}

export type PhotoResult = { bytes: Buffer } | { error: string };

interface Meta {
  url: string;
  etag?: string;
  lastModified?: string;
  failedAt?: number;
  error?: string;
}

const TYPES = /^image\/(jpeg|png|webp)\b/i;

function allowed(u: URL, o: PhotoFetchOptions): boolean {
  if (u.protocol === 'https:') return true;
  return Boolean(o.allowHttpLoopback) && u.protocol === 'http:' && u.hostname === '127.0.0.1';
}

/** Read at most `max` bytes of a body; more is an error, not a truncated photo. */
async function readCapped(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) throw new Error(`larger than ${max} bytes (Content-Length ${declared})`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > max) throw new Error(`larger than ${max} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

export async function fetchPhoto(url: string, o: PhotoFetchOptions): Promise<PhotoResult> {
  const now = o.now ?? Date.now;
  mkdirSync(o.cacheDir, { recursive: true });
  const key = createHash('sha256').update(url).digest('hex').slice(0, 32);
  const bin = join(o.cacheDir, `${key}.img`);
  const metaFile = join(o.cacheDir, `${key}.json`);
  const meta: Meta = existsSync(metaFile) ? JSON.parse(readFileSync(metaFile, 'utf8')) : { url };
  const cached = existsSync(bin) ? readFileSync(bin) : undefined;
  if (meta.failedAt && now() - meta.failedAt < o.failureTtlMs)
    return { error: `failed ${Math.round((now() - meta.failedAt) / 1000)} s ago: ${meta.error}` };

  const fail = async (error: string): Promise<PhotoResult> => {
    await writeFileAtomic(metaFile, JSON.stringify({ ...meta, failedAt: now(), error }));
    return { error };
  };
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return fail('not a URL');
  }
  if (!allowed(target, o)) return fail('only https URLs are fetched');
  const signal = AbortSignal.timeout(o.timeoutMs);
  try {
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { accept: 'image/jpeg, image/png, image/webp' };
      if (cached && meta.etag) headers['if-none-match'] = meta.etag;
      if (cached && meta.lastModified) headers['if-modified-since'] = meta.lastModified;
      const res = await fetch(target, { headers, redirect: 'manual', signal });
      if (res.status === 304 && cached) return { bytes: cached };
      if (res.status >= 300 && res.status < 400) {
        const loc = res.headers.get('location');
        await res.body?.cancel();
        if (!loc || hop >= 3) return fail(`HTTP ${res.status} without a usable Location`);
        const next = new URL(loc, target);
        if (!allowed(next, o) || next.host !== target.host)
          return fail(`redirect to ${next.protocol}//${next.host} refused (https on the same host only)`);
        target = next;
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        return fail(`HTTP ${res.status}`);
      }
      const type = res.headers.get('content-type') ?? '';
      if (!TYPES.test(type)) {
        await res.body?.cancel();
        return fail(`content-type "${type || 'none'}" is not a JPEG, PNG or WebP image`);
      }
      const bytes = await readCapped(res, o.maxBytes);
      await writeFileAtomic(bin, bytes);
      await writeFileAtomic(
        metaFile,
        JSON.stringify({
          url,
          etag: res.headers.get('etag') ?? undefined,
          lastModified: res.headers.get('last-modified') ?? undefined,
        } satisfies Meta),
      );
      return { bytes };
    }
  } catch (err) {
    const e = err as Error;
    return fail(
      e.name === 'TimeoutError' || signal.aborted ? `no answer within ${o.timeoutMs} ms` : e.message,
    );
  }
}
