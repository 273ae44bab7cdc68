import { createRestAPIClient, MastoHttpError, MastoTimeoutError } from 'masto';
import { PublishError } from '../publisher.ts';
import { altWithin, comparable, fitImage, httpFailure, type SocialPlatform } from './social.ts';

// Mastodon through masto: verify_credentials (who am I), POST /api/v2/media
// (the card with its description; masto polls until an async upload is
// processed), POST /api/v1/statuses with visibility and language.
//
// Exactly once: every status request carries Idempotency-Key: <post key>
// (Mastodon answers a repeat within an hour with the status it already made),
// and before a retry the account's latest statuses are searched for this text.

const MAX_IMAGE = 8 * 1024 * 1024;

function failure(err: unknown): PublishError {
  if (err instanceof PublishError) return err;
  if (err instanceof MastoHttpError) {
    const res = err.cause as Response | undefined;
    const detail = err.description ? `${err.message}: ${err.description}` : err.message;
    return httpFailure('Mastodon', err.statusCode, detail, (n) => res?.headers?.get?.(n), err);
  }
  if (err instanceof MastoTimeoutError)
    return httpFailure('Mastodon', undefined, 'timed out', undefined, err);
  return httpFailure('Mastodon', undefined, (err as Error).message ?? String(err), undefined, err);
}

export const mastodon: SocialPlatform = {
  name: 'mastodon',
  label: 'Mastodon',
  env: ['MASTODON_TOKEN'],
  base: { name: 'MASTODON_URL' },
  create(ctx, env) {
    const cfg = ctx.config.review.social;
    const client = createRestAPIClient({
      url: env.MASTODON_URL!,
      accessToken: env.MASTODON_TOKEN!,
      timeout: cfg.timeoutMs,
    });
    let me: Promise<{ id: string; acct: string; url: string }> | undefined;
    const account = () => {
      me ??= client.v1.accounts
        .verifyCredentials()
        .then((a) => ({ id: a.id, acct: a.acct, url: a.url }))
        .catch((err) => {
          me = undefined;
          throw failure(err);
        });
      return me;
    };
    return {
      name: 'mastodon',
      async whoami() {
        const a = await account();
        // Mastodon 4.3+ names the token's app scopes; older servers do not, and then nothing is claimed.
        const app = await client.v1.apps.verifyCredentials().catch(() => undefined);
        const scopes = (app as { scopes?: string[] | null } | undefined)?.scopes;
        const has = (s: string) => !!scopes?.some((x) => x === 'write' || x === s);
        const missing = scopes ? ['write:statuses', 'write:media'].filter((s) => !has(s)) : [];
        return { account: `@${a.acct} (${a.url})`, missingScopes: missing.length ? missing : undefined };
      },
      async find(post) {
        const a = await account();
        try {
          const recent = await client.v1.accounts
            .$select(a.id)
            .statuses.list({ limit: 20, excludeReblogs: true });
          const want = comparable(post.caption);
          const hit = recent.find(
            (s) =>
              comparable(s.content) === want &&
              Date.parse(s.createdAt) >= Date.parse(post.approvedAt) - 60_000,
          );
          return hit ? { response: hit.uri, postId: hit.id, url: hit.url ?? hit.uri } : undefined;
        } catch (err) {
          // A server without this listing still has the Idempotency-Key, which makes a repeat harmless.
          if (err instanceof MastoHttpError && (err.statusCode === 404 || err.statusCode === 501))
            return undefined;
          throw failure(err);
        }
      },
      async publish(post) {
        await account();
        const img = await fitImage(post.card.file, MAX_IMAGE);
        try {
          let media = await client.v2.media.create({
            file: new Blob([new Uint8Array(img.data)], { type: img.mime }),
            description: altWithin(post.alt, 1500),
            skipPolling: true,
          });
          // 202 = still processing (url null): poll GET /api/v1/media/:id ourselves, bounded.
          for (let i = 0; !media.url && i < 30; i++) {
            await new Promise((r) => setTimeout(r, 1000));
            media = await client.v1.media.$select(media.id).fetch();
          }
          const s = await client.v1.statuses.create(
            {
              status: post.caption,
              mediaIds: [media.id],
              visibility: cfg.mastodon.visibility,
              language: cfg.language,
            },
            { requestInit: { headers: { 'Idempotency-Key': post.key } } },
          );
          return { response: s.uri, postId: s.id, url: s.url ?? s.uri };
        } catch (err) {
          throw failure(err);
        }
      },
    };
  },
};
