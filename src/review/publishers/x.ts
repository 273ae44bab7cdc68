import { Agent as HttpAgent } from 'node:http';
import { ApiRequestError, ApiResponseError, type ITwitterApiClientPlugin, TwitterApi } from 'twitter-api-v2';
import { captionLength } from '../../cards/captions.ts';
import { PublishError } from '../publisher.ts';
import { altWithin, comparable, fitImage, httpFailure, type SocialPlatform } from './social.ts';

// X through twitter-api-v2 (OAuth 1.0a user context): GET /2/users/me (who am
// I; x-access-level says whether the token may write), the v2 chunked media
// upload (initialize / append / finalize), POST /2/media/metadata (alt text),
// POST /2/tweets. The caption is checked against 280 weighted characters
// (twitter-text: CJK count 2, a link 23) before anything is uploaded.
//
// X has no idempotency key: before a retry the account's latest posts are
// searched for this text (links compared without their t.co form).
//
// X_API_URL replaces https://api.x.com (and upload.x.com) for tests and
// proxies: a client plugin rewrites each request's URL before it is sent.

const MAX_IMAGE = 5 * 1024 * 1024;
const HOSTS = new Set(['api.x.com', 'upload.x.com', 'api.twitter.com', 'upload.twitter.com']);

function failure(err: unknown): PublishError {
  if (err instanceof PublishError) return err;
  if (err instanceof ApiResponseError) {
    const d = err.data as {
      detail?: string;
      title?: string;
      errors?: { message?: string; detail?: string }[];
    };
    const msg =
      d?.detail ?? d?.errors?.map((e) => e.message ?? e.detail).join('; ') ?? d?.title ?? err.message;
    const reset = err.rateLimit?.reset;
    return httpFailure(
      'X',
      err.code,
      msg,
      (n) =>
        n === 'x-rate-limit-reset' && reset
          ? String(reset)
          : ((err.headers?.[n] as string | undefined) ?? null),
      err,
    );
  }
  if (err instanceof ApiRequestError) {
    // twitter-api-v2 1.29 stores the cause as _options.error while its requestError getter reads another name.
    const e = (err.requestError ?? (err as unknown as { _options?: { error?: Error } })._options?.error) as
      | NodeJS.ErrnoException
      | undefined;
    const why = [e?.code, e?.message].filter(Boolean).join(' ') || err.message;
    return httpFailure('X', undefined, `request failed: ${why}`, undefined, err);
  }
  return httpFailure('X', undefined, (err as Error).message ?? String(err), undefined, err);
}

export const x: SocialPlatform = {
  name: 'x',
  label: 'X',
  env: ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_SECRET'],
  base: { name: 'X_API_URL', default: 'https://api.x.com' },
  create(ctx, env) {
    const timeoutMs = ctx.config.review.social.timeoutMs;
    const base = new URL(env.X_API_URL!);
    const rebase: ITwitterApiClientPlugin = {
      onBeforeRequest(args) {
        args.requestOptions.timeout = timeoutMs;
        const u = args.computedParams.url;
        if (!HOSTS.has(u.hostname) || base.hostname === 'api.x.com') return;
        u.protocol = base.protocol;
        u.host = base.host;
        u.pathname = base.pathname.replace(/\/$/, '') + u.pathname;
      },
    };
    const client = new TwitterApi(
      {
        appKey: env.X_API_KEY!,
        appSecret: env.X_API_SECRET!,
        accessToken: env.X_ACCESS_TOKEN!,
        accessSecret: env.X_ACCESS_SECRET!,
      },
      // https.request refuses http: URLs unless given an http agent (a loopback X_API_URL).
      { plugins: [rebase], ...(base.protocol === 'http:' ? { httpAgent: new HttpAgent() } : {}) },
    );
    let me: Promise<{ id: string; username: string; access?: string }> | undefined;
    const account = () => {
      me ??= client.v2
        .get<{ data: { id: string; username: string } }>('users/me', {}, { fullResponse: true })
        .then((r) => ({
          id: r.data.data.id,
          username: r.data.data.username,
          access: r.headers['x-access-level'] as string | undefined,
        }))
        .catch((err) => {
          me = undefined;
          throw failure(err);
        });
      return me;
    };
    const receipt = (username: string, id: string) => ({
      response: id,
      postId: id,
      url: `https://x.com/${username}/status/${id}`,
    });
    return {
      name: 'x',
      async whoami() {
        const a = await account();
        const canWrite = !a.access || a.access.includes('write');
        return {
          account: `@${a.username} (${a.id})`,
          missingScopes: canWrite ? undefined : [`write (token is ${a.access})`],
        };
      },
      async find(post) {
        const a = await account();
        try {
          const r = await client.v2.get<{ data?: { id: string; text: string }[] }>(`users/${a.id}/tweets`, {
            max_results: 20,
            start_time: new Date(Date.parse(post.approvedAt) - 60_000).toISOString(),
          });
          const want = comparable(post.caption);
          const hit = r.data?.find((t) => comparable(t.text) === want);
          return hit ? receipt(a.username, hit.id) : undefined;
        } catch (err) {
          throw failure(err);
        }
      },
      async publish(post) {
        const len = captionLength('x', post.caption);
        if (len > 280)
          throw new PublishError(
            `X: the caption weighs ${len} of 280 characters (CJK count 2, links 23)`,
            true,
          );
        const a = await account();
        const img = await fitImage(post.card.file, MAX_IMAGE);
        try {
          const mediaId = await client.v2.uploadMedia(img.data, {
            media_type: img.mime as 'image/png',
            media_category: 'tweet_image',
          });
          await client.v2.createMediaMetadata(mediaId, { alt_text: { text: altWithin(post.alt, 1000) } });
          const t = await client.v2.tweet({ text: post.caption, media: { media_ids: [mediaId] } });
          return receipt(a.username, t.data.id);
        } catch (err) {
          throw failure(err);
        }
      },
    };
  },
};
