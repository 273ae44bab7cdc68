import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { Context } from '../../context.ts';
import type { SocialName } from '../config.ts';
import { PublishError, type Publisher } from '../publisher.ts';

// What every social publisher shares: where its credentials come from (the
// environment only — never the config file, never a log line), how an HTTP
// answer becomes a retry decision, and the card in a size the platform takes.

export interface WhoAmI {
  /** The account posts go out as (handle, page name, user id). */
  account: string;
  /** Permissions the token lacks for posting, when the platform says which it has. */
  missingScopes?: string[];
}

export interface SocialPublisher extends Publisher {
  /** The platform's "who am I": proves the credentials work, without posting. */
  whoami(): Promise<WhoAmI>;
}

export interface SocialPlatform {
  name: SocialName;
  label: string;
  /** Variables that must all be set for the platform to be offered. */
  env: readonly string[];
  /** The API base variable and its default (tests and self-hosted instances set it). */
  base?: { name: string; default?: string };
  create(ctx: Context, env: Record<string, string>): SocialPublisher;
}

export type EnvCheck = { ok: true; env: Record<string, string> } | { ok: false; missing: string[] };

/** The platform's variables from `env`; a base URL without a default is required too. */
export function envFor(p: SocialPlatform, env: NodeJS.ProcessEnv = process.env): EnvCheck {
  const names = [...p.env, ...(p.base && !p.base.default ? [p.base.name] : [])];
  const missing = names.filter((n) => !env[n]?.trim());
  if (missing.length) return { ok: false, missing };
  const out: Record<string, string> = {};
  for (const n of names) out[n] = env[n]!.trim();
  if (p.base) out[p.base.name] = (env[p.base.name]?.trim() || p.base.default!).replace(/\/+$/, '');
  return { ok: true, env: out };
}

/**
 * How long a 429 asks us to wait, from whichever header the platform uses:
 * Retry-After (seconds or a date), RateLimit-Reset / X-Rate-Limit-Reset (epoch
 * seconds, Bluesky and X), X-RateLimit-Reset (an ISO time, Mastodon).
 */
export function waitFromHeaders(get: (name: string) => string | null | undefined, now = Date.now()) {
  const ra = get('retry-after');
  if (ra) {
    const s = Number(ra);
    if (Number.isFinite(s)) return Math.max(0, s * 1000);
    const d = Date.parse(ra);
    if (!Number.isNaN(d)) return Math.max(0, d - now);
  }
  const reset = get('ratelimit-reset') ?? get('x-rate-limit-reset') ?? get('x-ratelimit-reset');
  if (reset) {
    const n = Number(reset);
    // Epoch seconds are ~1.7e9; a small number is "seconds from now" (IETF draft RateLimit-Reset).
    if (Number.isFinite(n)) return Math.max(0, n > 1e9 ? n * 1000 - now : n * 1000);
    const d = Date.parse(reset);
    if (!Number.isNaN(d)) return Math.max(0, d - now);
  }
  return undefined;
}

/**
 * An HTTP failure as a PublishError. 429: wait for the reset and retry; 408 and
 * 5xx: retry (after looking for the post: the platform may have made it);
 * any other 4xx (too long, bad media, expired token, missing permission): the
 * same request cannot succeed, the post is marked failed with the platform's words.
 */
export function httpFailure(
  label: string,
  status: number | undefined,
  message: string,
  headers?: (name: string) => string | null | undefined,
  cause?: unknown,
): PublishError {
  const text = `${label}: ${status ? `${status} ` : ''}${message}`.slice(0, 480);
  if (status === 429)
    return new PublishError(text, false, (headers && waitFromHeaders(headers)) ?? 60_000, { cause });
  const transient = !status || status === 408 || status >= 500;
  return new PublishError(text, !transient, undefined, { cause });
}

/**
 * The card file in a size the platform takes: the PNG as rendered when it fits,
 * else a high-quality JPEG of it (cards are flat graphics, JPEG q≥80 keeps text crisp).
 */
export async function fitImage(file: string, maxBytes: number): Promise<{ data: Buffer; mime: string }> {
  let png: Buffer;
  try {
    png = readFileSync(file);
  } catch (err) {
    throw new PublishError(`card missing: ${file}`, true, undefined, { cause: err });
  }
  if (png.length <= maxBytes) return { data: png, mime: 'image/png' };
  for (const quality of [92, 85, 78, 70]) {
    const jpg = await sharp(png)
      .flatten({ background: '#ffffff' })
      .jpeg({ quality, mozjpeg: true })
      .toBuffer();
    if (jpg.length <= maxBytes) return { data: jpg, mime: 'image/jpeg' };
  }
  throw new PublishError(`card ${file} is over ${maxBytes} bytes even as JPEG`, true);
}

/** Alt text within a platform's limit (by code points, at a sentence end when one is near). */
export function altWithin(alt: string, max: number): string {
  const cps = [...alt];
  if (cps.length <= max) return alt;
  const cut = cps.slice(0, max - 1).join('');
  const end = Math.max(cut.lastIndexOf('。'), cut.lastIndexOf('. '));
  return end > max / 2 ? cut.slice(0, end + 1) : `${cut}…`;
}

/** Text as a platform shows it, for "is this the post we made?": links and spacing differ (t.co, HTML). */
export const comparable = (s: string) =>
  s
    .replace(/<[^>]+>/g, ' ')
    .replace(/https?:\/\/\S+/g, '')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;|&#39;/g, '')
    .replace(/["'’‘“”]/g, '')
    .replace(/\s+/g, '');
