import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PublishError, type PublisherFactory } from '../publisher.ts';

// HTTP POST of the post as JSON to review.webhook.url.
//   Idempotency-Key: <post key>           same on every retry: the receiver drops repeats
//   X-Broadsheet-Signature: sha256=<hex>  HMAC-SHA256 of the exact body bytes with the app secret
// 2xx = published; 408, 425, 429, 5xx and network errors are worth retrying;
// any other status is permanent (retrying the same request cannot fix a 400).

export const signBody = (secret: Buffer, body: string | Buffer) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const RETRYABLE = new Set([408, 425, 429]);

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const d = Date.parse(h);
  return Number.isNaN(d) ? undefined : Math.max(0, d - Date.now());
}

export const webhookPublisher: PublisherFactory = (ctx, secret) => {
  const cfg = ctx.config.review.webhook;
  return {
    name: 'webhook',
    async publish(post) {
      if (!cfg.url) throw new PublishError('review.webhook.url is not set', true);
      const { file, ...card } = post.card;
      let png: Buffer;
      try {
        png = readFileSync(file);
      } catch (err) {
        throw new PublishError(`card missing: ${file}`, true, undefined, { cause: err });
      }
      const body = JSON.stringify({
        key: post.key,
        edition: post.edition,
        item: post.itemId,
        platform: post.platform,
        format: post.format,
        caption: post.caption,
        title: post.title,
        url: post.url,
        editor: post.editor,
        approvedAt: post.approvedAt,
        card: {
          ...card,
          mime: 'image/png',
          bytes: png.length,
          ...(cfg.includeImage ? { base64: png.toString('base64') } : {}),
        },
      });
      let res: Response;
      try {
        res = await fetch(cfg.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'idempotency-key': post.key,
            'x-broadsheet-signature': signBody(secret, body),
            'user-agent': 'broadsheet-publish/1',
          },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(cfg.timeoutMs),
        });
      } catch (err) {
        throw new PublishError(`POST ${cfg.url} failed: ${(err as Error).message}`, false, undefined, {
          cause: err,
        });
      }
      const text = (await res.text().catch(() => '')).slice(0, 300);
      if (res.ok) return { response: `${res.status} ${text}`.trim() };
      const transient = res.status >= 500 || RETRYABLE.has(res.status);
      throw new PublishError(
        `POST ${cfg.url} → ${res.status} ${text}`.trim(),
        !transient,
        retryAfterMs(res.headers.get('retry-after')),
      );
    },
  };
};
