import { PublishError } from '../publisher.ts';
import { altWithin, comparable, fitImage, httpFailure, type SocialPlatform } from './social.ts';

// LinkedIn organisation posts through the versioned REST API, by fetch (no
// well-kept Node client exists): GET /rest/organizationAcls?q=roleAssignee and
// GET /rest/organizations/{id} (who am I; a token without the organisation's
// admin rights gets 403 there),
// POST /rest/images?action=initializeUpload → PUT the card to the uploadUrl,
// POST /rest/posts with the image's URN and alt text; the post's URN comes
// back in x-restli-id. Commentary is LinkedIn's "little text": reserved
// characters are escaped, #hashtags become {hashtag|\#|tag}. No idempotency
// key: before a retry the organisation's latest posts are searched.

const VERSION = '202501';
const MAX_IMAGE = 8 * 1024 * 1024;
/** Roles that may make the organisation's feed posts (DIRECT_SPONSORED_CONTENT_POSTER: sponsored only). */
const POSTING_ROLES = new Set(['ADMINISTRATOR', 'CONTENT_ADMINISTRATOR', 'CONTENT_ADMIN']);
const RESERVED = /[\\|{}@[\]()<>#*_~]/g;

/** A caption as LinkedIn commentary: reserved characters escaped, hashtags as hashtag templates. */
export function littleText(caption: string): string {
  const parts = caption.split(/(#[\p{L}\p{N}_]+)/u);
  return parts
    .map((p, i) => (i % 2 ? `{hashtag|\\#|${p.slice(1)}}` : p.replace(RESERVED, (c) => `\\${c}`)))
    .join('');
}

/** Commentary back to plain text, for "is this our post?". */
const plain = (s: string) => s.replace(/\{hashtag\|\\#\|([^}]+)\}/g, '#$1').replace(/\\(.)/g, '$1');

export const linkedin: SocialPlatform = {
  name: 'linkedin',
  label: 'LinkedIn',
  env: ['LINKEDIN_ORG_ID', 'LINKEDIN_TOKEN'],
  base: { name: 'LINKEDIN_API_URL', default: 'https://api.linkedin.com' },
  create(ctx, env) {
    const base = env.LINKEDIN_API_URL!;
    const org = `urn:li:organization:${env.LINKEDIN_ORG_ID}`;
    const timeoutMs = ctx.config.review.social.timeoutMs;
    const headers = {
      authorization: `Bearer ${env.LINKEDIN_TOKEN}`,
      'linkedin-version': VERSION,
      'x-restli-protocol-version': '2.0.0',
    };
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      raw?: { data: Buffer; mime: string; url: string },
    ) => {
      let res: Response;
      try {
        res = await fetch(raw?.url ?? `${base}${path}`, {
          method,
          headers: raw
            ? { authorization: headers.authorization, 'content-type': raw.mime }
            : { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: raw ? new Uint8Array(raw.data) : body ? JSON.stringify(body) : undefined,
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        throw httpFailure(
          'LinkedIn',
          undefined,
          `${method} ${raw ? 'image upload' : path.split('?')[0]} failed: ${e.cause?.code ?? e.name} ${e.message}`,
          undefined,
          err,
        );
      }
      const text = await res.text().catch(() => '');
      if (!res.ok) {
        let msg = text.slice(0, 300);
        try {
          msg = (JSON.parse(text) as { message?: string }).message ?? msg;
        } catch {}
        throw Object.assign(
          httpFailure('LinkedIn', res.status, msg || res.statusText, (n) => res.headers.get(n)),
          { status: res.status },
        );
      }
      return { res, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const receipt = (urn: string) => ({
      response: urn,
      postId: urn,
      url: `https://www.linkedin.com/feed/update/${urn}/`,
    });
    return {
      name: 'linkedin',
      async whoami() {
        // The member's roles (organizationAcls roleAssignee finder): feed posts as the
        // organisation need an approved ADMINISTRATOR or CONTENT_ADMINISTRATOR role. The finder
        // itself needs r_organization_admin; without it (403) the role is not knowable.
        // w_organization_social is never knowable here: token introspection needs the client secret.
        const unknown = ['w_organization_social not verifiable without the app secret'];
        try {
          const { json: acl } = await call(
            'GET',
            '/rest/organizationAcls?q=roleAssignee&state=APPROVED&count=100',
          );
          const mine = (
            (acl.elements ?? []) as { organization?: string; role?: string; roleAssignee?: string }[]
          ).filter((e) => e.organization === org);
          if (!mine.some((e) => POSTING_ROLES.has(e.role ?? ''))) {
            const member = ((acl.elements ?? []) as { roleAssignee?: string }[])[0]?.roleAssignee;
            const roles = mine.map((e) => e.role).join(', ');
            return {
              account: member ?? 'this member',
              missingScopes: [
                `not an admin of organization ${env.LINKEDIN_ORG_ID}${roles ? ` (roles: ${roles})` : ''}; feed posts need ADMINISTRATOR or CONTENT_ADMINISTRATOR`,
              ],
            };
          }
        } catch (err) {
          if ((err as { status?: number }).status !== 403) throw err;
          unknown.unshift(
            `organization role not verifiable (${(err as Error).message.replace(/^LinkedIn: /, '')})`,
          );
        }
        const { json } = await call('GET', `/rest/organizations/${encodeURIComponent(env.LINKEDIN_ORG_ID!)}`);
        return { account: `${String(json.localizedName ?? '?')} (${org}); ${unknown.join('; ')}` };
      },
      async find(post) {
        const { json } = await call('GET', `/rest/posts?author=${encodeURIComponent(org)}&q=author&count=20`);
        const want = comparable(post.caption);
        const hit = ((json.elements ?? []) as { id: string; commentary?: string }[]).find(
          (p) => comparable(plain(p.commentary ?? '')) === want,
        );
        return hit ? receipt(hit.id) : undefined;
      },
      async publish(post) {
        if ([...post.caption].length > 3000)
          throw new PublishError('LinkedIn: the text is over 3,000 characters', true);
        const img = await fitImage(post.card.file, MAX_IMAGE);
        const init = await call('POST', '/rest/images?action=initializeUpload', {
          initializeUploadRequest: { owner: org },
        });
        const v = init.json.value as { uploadUrl: string; image: string };
        await call('PUT', '', undefined, { ...img, url: v.uploadUrl });
        const r = await call('POST', '/rest/posts', {
          author: org,
          commentary: littleText(post.caption),
          visibility: 'PUBLIC',
          distribution: {
            feedDistribution: 'MAIN_FEED',
            targetEntities: [],
            thirdPartyDistributionChannels: [],
          },
          content: { media: { id: v.image, altText: altWithin(post.alt, 4086) } },
          lifecycleState: 'PUBLISHED',
          isReshareDisabledByAuthor: false,
        });
        const urn = r.res.headers.get('x-restli-id');
        if (!urn) throw new PublishError('LinkedIn: the post was created but no x-restli-id came back', true);
        return receipt(urn);
      },
    };
  },
};
