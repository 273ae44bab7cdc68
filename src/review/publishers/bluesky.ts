import { createHash } from 'node:crypto';
import { AtpAgent, RichText } from '@atproto/api';
import type { PublishPost } from '../publisher.ts';
import { PublishError } from '../publisher.ts';
import { altWithin, comparable, fitImage, httpFailure, type SocialPlatform } from './social.ts';

// Bluesky through @atproto/api: createSession (app password), uploadBlob (the
// card; blobs are capped at 1,000,000 bytes, so a large PNG goes as JPEG),
// createRecord app.bsky.feed.post with an images embed (alt text, aspect
// ratio) and facets for links and hashtags from RichText.
//
// Exactly once: the record key is derived from the post's idempotency key and
// approval time (a valid TID), so the same post is always the same record.
// Before a retry the record is looked up (getRecord); a repeat createRecord
// could not make a second post anyway — the PDS refuses an existing key.
// A link card (external embed) is not sent: a post has one embed and the card
// image is the point; the link stays clickable through its facet.

const S32 = '234567abcdefghijklmnopqrstuvwxyz';
const MAX_BLOB = 1_000_000;
const MAX_GRAPHEMES = 300;

/** A TID (13 base32-sortable chars: 53-bit µs timestamp, 10-bit clock id) fixed by the post. */
export function recordKey(post: Pick<PublishPost, 'key' | 'approvedAt'>): string {
  const h = createHash('sha256').update(post.key).digest();
  const ms = BigInt(Date.parse(post.approvedAt) || 0);
  const micros = ms * 1000n + BigInt(h.readUInt16BE(0) % 1000);
  let v = (micros << 10n) | BigInt(h.readUInt16BE(2) & 0x3ff);
  let out = '';
  for (let i = 0; i < 13; i++) {
    out = S32[Number(v & 31n)] + out;
    v >>= 5n;
  }
  return out;
}

const COLLECTION = 'app.bsky.feed.post';

function failure(err: unknown): PublishError {
  if (err instanceof PublishError) return err;
  const e = err as { status?: number; error?: string; message?: string; headers?: Record<string, string> };
  const status = typeof e.status === 'number' && e.status >= 100 ? e.status : undefined;
  const h = e.headers ?? {};
  return httpFailure(
    'Bluesky',
    status,
    [e.error, e.message].filter((x, i, a) => x && a.indexOf(x) === i).join(': ') || String(err),
    (n) => h[n] ?? h[n.toLowerCase()],
    err,
  );
}

export const bluesky: SocialPlatform = {
  name: 'bluesky',
  label: 'Bluesky',
  env: ['BLUESKY_HANDLE', 'BLUESKY_APP_PASSWORD'],
  base: { name: 'BLUESKY_SERVICE', default: 'https://bsky.social' },
  create(ctx, env) {
    const timeoutMs = ctx.config.review.social.timeoutMs;
    const agent = new AtpAgent({
      service: env.BLUESKY_SERVICE!,
      fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
    });
    let session: Promise<{ did: string; handle: string }> | undefined;
    const login = () => {
      session ??= agent
        .login({ identifier: env.BLUESKY_HANDLE!, password: env.BLUESKY_APP_PASSWORD! })
        .then((r) => ({ did: r.data.did, handle: r.data.handle }))
        .catch((err) => {
          session = undefined;
          throw failure(err);
        });
      return session;
    };
    const receipt = (me: { handle: string }, uri: string, rkey: string) => ({
      response: uri,
      postId: uri,
      url: `https://bsky.app/profile/${me.handle}/post/${rkey}`,
    });
    return {
      name: 'bluesky',
      async whoami() {
        const me = await login();
        return { account: `@${me.handle} (${me.did})` };
      },
      async find(post) {
        const me = await login();
        const rkey = recordKey(post);
        try {
          const r = await agent.com.atproto.repo.getRecord({ repo: me.did, collection: COLLECTION, rkey });
          return receipt(me, r.data.uri, rkey);
        } catch (err) {
          const e = err as { status?: number; error?: string };
          if (!(e.status === 404 || (e.status === 400 && e.error === 'RecordNotFound'))) throw failure(err);
        }
        // Not under its key: a server that chose its own key may still have it. The latest
        // records are searched; a server without listRecords is left to the key.
        try {
          const l = await agent.com.atproto.repo.listRecords({
            repo: me.did,
            collection: COLLECTION,
            limit: 25,
          });
          const want = comparable(post.caption);
          const hit = l.data.records.find(
            (r) => comparable(String((r.value as { text?: unknown }).text ?? '')) === want,
          );
          return hit ? receipt(me, hit.uri, hit.uri.split('/').pop()!) : undefined;
        } catch (err) {
          const e = err as { status?: number };
          if (e.status === 404 || e.status === 501 || e.status === 400) return undefined;
          throw failure(err);
        }
      },
      async publish(post) {
        const me = await login();
        const rt = new RichText({ text: post.caption });
        if (rt.graphemeLength > MAX_GRAPHEMES)
          throw new PublishError(
            `Bluesky: the caption is ${rt.graphemeLength} characters; Bluesky takes ${MAX_GRAPHEMES}`,
            true,
          );
        // Links and #hashtags become facets; @mentions are not resolved (captions carry none).
        rt.detectFacetsWithoutResolution();
        const img = await fitImage(post.card.file, MAX_BLOB);
        const rkey = recordKey(post);
        try {
          const blob = await agent.uploadBlob(new Uint8Array(img.data), { encoding: img.mime });
          const r = await agent.com.atproto.repo.createRecord({
            repo: me.did,
            collection: COLLECTION,
            rkey,
            record: {
              $type: COLLECTION,
              text: rt.text,
              facets: rt.facets,
              langs: [ctx.config.review.social.language],
              createdAt: new Date().toISOString(),
              embed: {
                $type: 'app.bsky.embed.images',
                images: [
                  {
                    image: blob.data.blob,
                    alt: altWithin(post.alt, 2000),
                    aspectRatio: { width: post.card.width, height: post.card.height },
                  },
                ],
              },
            },
          });
          return receipt(me, r.data.uri, rkey);
        } catch (err) {
          throw failure(err);
        }
      },
    };
  },
};
