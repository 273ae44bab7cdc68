import { appSecret } from '../../config/secret.ts';
import { cardPublicUrl } from '../media.ts';
import { PublishError } from '../publisher.ts';
import { type GraphOptions, graph, isPermissionError, waitForContainer } from './graph.ts';
import { altWithin, comparable, type SocialPlatform } from './social.ts';

// Threads through its Graph API (fetch; graph.ts): GET /me (who am I), POST
// /{user-id}/threads with media_type=IMAGE, image_url (the card at a signed
// public URL under publicUrl, media.ts), text and alt_text → a container; its
// status is polled until FINISHED; POST /{user-id}/threads_publish; the
// permalink is read back. No idempotency key: before a retry the account's
// latest threads are searched for this text.

const VERSION = 'v1.0';

export const threads: SocialPlatform = {
  name: 'threads',
  label: 'Threads',
  env: ['THREADS_USER_ID', 'THREADS_TOKEN'],
  base: { name: 'THREADS_API_URL', default: 'https://graph.threads.net' },
  create(ctx, env) {
    const user = env.THREADS_USER_ID!;
    const secret = appSecret(ctx);
    const o: GraphOptions = {
      label: 'Threads',
      base: `${env.THREADS_API_URL}/${VERSION}`,
      token: env.THREADS_TOKEN!,
      timeoutMs: ctx.config.review.social.timeoutMs,
    };
    return {
      name: 'threads',
      async whoami() {
        const me = await graph<{ id: string; username?: string }>(o, 'GET', '/me', { fields: 'id,username' });
        const account = `@${me.username ?? '?'} (${me.id})`;
        // /me answers with threads_basic alone; the publishing limit is documented to need
        // threads_basic + threads_content_publish, so it proves the right to post (and shows the quota).
        try {
          const l = await graph<{ data?: { quota_usage?: number; config?: { quota_total?: number } }[] }>(
            o,
            'GET',
            `/${user}/threads_publishing_limit`,
            { fields: 'quota_usage,config' },
          );
          const q = l.data?.[0];
          const quota =
            q?.quota_usage !== undefined && q.config?.quota_total
              ? `; ${q.quota_usage} of ${q.config.quota_total} posts used in 24 h`
              : '';
          return { account: `${account}${quota}` };
        } catch (err) {
          if (!isPermissionError(err)) throw err;
          return {
            account,
            missingScopes: [`threads_content_publish (${(err as Error).message.replace(/^Threads: /, '')})`],
          };
        }
      },
      async find(post) {
        const r = await graph<{ data?: { id: string; text?: string; permalink?: string }[] }>(
          o,
          'GET',
          `/${user}/threads`,
          {
            fields: 'id,text,permalink,timestamp',
            since: String(Math.floor(Date.parse(post.approvedAt) / 1000) - 60),
            limit: '25',
          },
        );
        const want = comparable(post.caption);
        const hit = r.data?.find((t) => comparable(t.text ?? '') === want);
        return hit ? { response: hit.id, postId: hit.id, url: hit.permalink } : undefined;
      },
      async publish(post) {
        if ([...post.caption].length > 500)
          throw new PublishError('Threads: the text is over 500 characters', true);
        const c = await graph<{ id: string }>(o, 'POST', `/${user}/threads`, {
          media_type: 'IMAGE',
          image_url: cardPublicUrl(ctx, secret, post),
          text: post.caption,
          alt_text: altWithin(post.alt, 1000),
        });
        await waitForContainer(o, c.id, 'status');
        const t = await graph<{ id: string }>(o, 'POST', `/${user}/threads_publish`, { creation_id: c.id });
        const p = await graph<{ permalink?: string }>(o, 'GET', `/${t.id}`, { fields: 'permalink' }).catch(
          () => ({
            permalink: undefined,
          }),
        );
        return { response: t.id, postId: t.id, url: p.permalink };
      },
    };
  },
};
