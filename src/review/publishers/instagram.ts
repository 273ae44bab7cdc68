import { appSecret } from '../../config/secret.ts';
import { cardPublicUrl } from '../media.ts';
import { PublishError } from '../publisher.ts';
import { GRAPH_VERSION } from './facebook.ts';
import { type GraphOptions, graph, tokenPermissions, waitForContainer } from './graph.ts';
import { altWithin, comparable, type SocialPlatform } from './social.ts';

// Instagram (professional account) through the Graph API (fetch; graph.ts):
// POST /{ig-user-id}/media with image_url (the card as JPEG at a signed public
// URL under publicUrl, see media.ts), caption and alt_text → a container;
// its status_code is polled until FINISHED; POST /{ig-user-id}/media_publish
// publishes it; the permalink is read back. Instagram fetches the image from
// publicUrl, so that must be reachable from the internet. No idempotency key:
// before a retry the account's latest media are searched for this caption.

export const instagram: SocialPlatform = {
  name: 'instagram',
  label: 'Instagram',
  env: ['INSTAGRAM_ACCOUNT_ID', 'INSTAGRAM_TOKEN'],
  base: { name: 'META_GRAPH_URL', default: 'https://graph.facebook.com' },
  create(ctx, env) {
    const ig = env.INSTAGRAM_ACCOUNT_ID!;
    const secret = appSecret(ctx);
    const o: GraphOptions = {
      label: 'Instagram',
      base: `${env.META_GRAPH_URL}/${GRAPH_VERSION}`,
      token: env.INSTAGRAM_TOKEN!,
      timeoutMs: ctx.config.review.social.timeoutMs,
    };
    return {
      name: 'instagram',
      async whoami() {
        const me = await graph<{ id: string; username?: string }>(o, 'GET', `/${ig}`, {
          fields: 'id,username',
        });
        const account = `@${me.username ?? '?'} (${me.id})`;
        const p = await tokenPermissions(o, ['instagram_basic', 'instagram_content_publish']);
        if ('unverifiable' in p) return { account: `${account}; ${p.unverifiable}` };
        return { account, missingScopes: p.missing.length ? p.missing : undefined };
      },
      async find(post) {
        const r = await graph<{ data?: { id: string; caption?: string; permalink?: string }[] }>(
          o,
          'GET',
          `/${ig}/media`,
          {
            fields: 'id,caption,permalink,timestamp',
            limit: '25',
          },
        );
        const want = comparable(post.caption);
        const hit = r.data?.find((m) => comparable(m.caption ?? '') === want);
        return hit ? { response: hit.id, postId: hit.id, url: hit.permalink } : undefined;
      },
      async publish(post) {
        if ([...post.caption].length > 2200)
          throw new PublishError('Instagram: the caption is over 2,200 characters', true);
        const c = await graph<{ id: string }>(o, 'POST', `/${ig}/media`, {
          image_url: cardPublicUrl(ctx, secret, post),
          caption: post.caption,
          alt_text: altWithin(post.alt, 1000),
        });
        await waitForContainer(o, c.id, 'status_code');
        const m = await graph<{ id: string }>(o, 'POST', `/${ig}/media_publish`, { creation_id: c.id });
        const p = await graph<{ permalink?: string }>(o, 'GET', `/${m.id}`, { fields: 'permalink' }).catch(
          () => ({
            permalink: undefined,
          }),
        );
        return { response: m.id, postId: m.id, url: p.permalink };
      },
    };
  },
};
