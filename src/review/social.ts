import type { Context } from '../context.ts';
import type { ReviewRepo } from '../store/review.ts';
import { localParts, localToInstant } from '../util/zoned.ts';
import { SOCIAL_NAMES, type SocialName } from './config.ts';
import { socialPlatforms } from './publishers/index.ts';
import { envFor, type SocialPlatform } from './publishers/social.ts';

// Which social platforms are on (credentials in the environment), which
// queue rows an approval makes, `publish --check`, and "next free slot".

export interface ReadySocial {
  platform: SocialPlatform;
  env: Record<string, string>;
}

export const socialList = (): SocialPlatform[] =>
  SOCIAL_NAMES.map((n) => socialPlatforms[n]).filter((p): p is SocialPlatform => !!p);

/** Platforms whose credentials are all set: the only ones offered. */
export function readySocial(_ctx: Context, env: NodeJS.ProcessEnv = process.env): ReadySocial[] {
  const out: ReadySocial[] = [];
  for (const p of socialList()) {
    const c = envFor(p, env);
    if (c.ok) out.push({ platform: p, env: c.env });
  }
  return out;
}

export const isSocial = (name: string): name is SocialName =>
  (SOCIAL_NAMES as readonly string[]).includes(name);

/** The publishers an approved post of `platform` (the caption's platform) is queued for. */
export function publishersFor(
  ctx: Context,
  platform: string,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const cfg = ctx.config.review;
  const social = readySocial(ctx, env)
    .map((s) => s.platform.name)
    .filter((n) => cfg.social.captionFrom[n] === platform);
  return [...cfg.publishers, ...social];
}

export type CheckResult =
  | { platform: SocialName; label: string; state: 'ready'; account: string; missingScopes?: string[] }
  | { platform: SocialName; label: string; state: 'missing'; variables: string[] }
  | { platform: SocialName; label: string; state: 'failing'; message: string };

/** Whether the internet can plausibly reach `url` (not loopback, private, link-local or .local). */
export function publicHost(url: string): boolean {
  const h = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.local') || h.endsWith('.localhost') || h === '::1') return false;
  return !/^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|0\.|f[cd][0-9a-f]{2}:|fe80:)/i.test(
    h,
  );
}

/** `publish --check`: each platform's who-am-I. Never includes a credential. */
export async function checkSocial(
  ctx: Context,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CheckResult[]> {
  return Promise.all(
    socialList().map(async (p): Promise<CheckResult> => {
      const c = envFor(p, env);
      if (!c.ok) return { platform: p.name, label: p.label, state: 'missing', variables: c.missing };
      // Instagram and Threads fetch each card from publicUrl: a loopback or private host fails every post.
      if ((p.name === 'instagram' || p.name === 'threads') && !publicHost(ctx.config.publicUrl))
        return {
          platform: p.name,
          label: p.label,
          state: 'failing',
          message: `${p.label} fetches each card from publicUrl (${ctx.config.publicUrl}), which is not a public address; set BROADSHEET_PUBLIC_URL`,
        };
      try {
        const me = await p.create(ctx, c.env).whoami();
        if (me.missingScopes?.length)
          return {
            platform: p.name,
            label: p.label,
            state: 'failing',
            message: `signed in as ${me.account} but the token lacks: ${me.missingScopes.join(', ')}`,
          };
        return { platform: p.name, label: p.label, state: 'ready', account: me.account };
      } catch (err) {
        return { platform: p.name, label: p.label, state: 'failing', message: (err as Error).message };
      }
    }),
  );
}

/**
 * The first of the platform's posting times (review.social.times, in the
 * config's timezone) at least a minute ahead that no other post of that
 * platform holds (within 10 minutes), up to review.social.slotDays ahead.
 */
export function nextFreeSlot(ctx: Context, repo: ReviewRepo, publisher: SocialName, now = ctx.clock.now()) {
  return freeSlotAmong(ctx, repo.takenSlots(publisher, takenFrom(now)), publisher, now);
}

/** Where the taken slots nextFreeSlot needs start (a shared store is asked for them first, issue 17). */
export const takenFrom = (now: Date) => new Date(now.getTime() + 60_000 - 10 * 60_000).toISOString();

/** nextFreeSlot given the slots already taken (from takenSlots(publisher, takenFrom(now))). */
export function freeSlotAmong(
  ctx: Context,
  takenIso: string[],
  publisher: SocialName,
  now = ctx.clock.now(),
) {
  const cfg = ctx.config.review.social;
  const tz = ctx.config.timezone;
  const from = now.getTime() + 60_000;
  const taken = takenIso.map((t) => Date.parse(t));
  const times = [...cfg.times[publisher]].sort();
  const today = localParts(now.getTime(), tz);
  for (let d = 0; d <= cfg.slotDays; d++) {
    const day = new Date(Date.UTC(today.year, today.month - 1, today.day + d));
    for (const t of times) {
      const [hour, minute] = t.split(':').map(Number) as [number, number];
      const { ms } = localToInstant(
        {
          year: day.getUTCFullYear(),
          month: day.getUTCMonth() + 1,
          day: day.getUTCDate(),
          hour,
          minute,
          second: 0,
        },
        tz,
      );
      if (ms < from) continue;
      if (taken.some((x) => Math.abs(x - ms) < 10 * 60_000)) continue;
      return new Date(ms);
    }
  }
  return undefined;
}
