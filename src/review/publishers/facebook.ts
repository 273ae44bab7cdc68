import { PublishError } from '../publisher.ts';
import { type GraphOptions, graph, tokenPermissions } from './graph.ts';
import { altWithin, comparable, fitImage, type SocialPlatform } from './social.ts';

// Facebook Pages through the Graph API (fetch; see graph.ts): GET /{page-id}
// (who am I), POST /{page-id}/photos with the card as multipart `source`, the
// caption as `message` and `alt_text_custom` — one call makes the photo post.
// `publish --check` also reads the token's permissions where Graph allows (graph.ts).
// No idempotency key: before a retry the page's latest published posts are
// searched for this text.

export const GRAPH_VERSION = 'v21.0';
const MAX_IMAGE = 4 * 1024 * 1024;

export const facebook: SocialPlatform = {
  name: 'facebook',
  label: 'Facebook',
  env: ['FACEBOOK_PAGE_ID', 'FACEBOOK_PAGE_TOKEN'],
  base: { name: 'META_GRAPH_URL', default: 'https://graph.facebook.com' },
  create(ctx, env) {
    const page = env.FACEBOOK_PAGE_ID!;
    const o: GraphOptions = {
      label: 'Facebook',
      base: `${env.META_GRAPH_URL}/${GRAPH_VERSION}`,
      token: env.FACEBOOK_PAGE_TOKEN!,
      timeoutMs: ctx.config.review.social.timeoutMs,
    };
    const receipt = (postId: string) => ({
      response: postId,
      postId,
      url: `https://www.facebook.com/${postId}`,
    });
    return {
      name: 'facebook',
      async whoami() {
        const me = await graph<{ id: string; name: string }>(o, 'GET', `/${page}`, { fields: 'id,name' });
        const account = `${me.name} (${me.id})`;
        // Photo posts need pages_manage_posts; finding an earlier attempt's post needs pages_read_engagement.
        const p = await tokenPermissions(o, ['pages_manage_posts', 'pages_read_engagement']);
        if ('unverifiable' in p) return { account: `${account}; ${p.unverifiable}` };
        return { account, missingScopes: p.missing.length ? p.missing : undefined };
      },
      async find(post) {
        const r = await graph<{ data?: { id: string; message?: string }[] }>(
          o,
          'GET',
          `/${page}/published_posts`,
          {
            fields: 'id,message,created_time',
            since: String(Math.floor(Date.parse(post.approvedAt) / 1000) - 60),
            limit: '25',
          },
        );
        const want = comparable(post.caption);
        const hit = r.data?.find((p) => comparable(p.message ?? '') === want);
        return hit ? receipt(hit.id) : undefined;
      },
      async publish(post) {
        if (!post.caption.trim()) throw new PublishError('Facebook: the caption is empty', true);
        const img = await fitImage(post.card.file, MAX_IMAGE);
        const r = await graph<{ id: string; post_id?: string }>(
          o,
          'POST',
          `/${page}/photos`,
          { message: post.caption, alt_text_custom: altWithin(post.alt, 1000), published: 'true' },
          { field: 'source', data: img.data, mime: img.mime },
        );
        return receipt(r.post_id ?? `${page}_${r.id}`);
      },
    };
  },
};
