import type { Context } from '../context.ts';

// A publisher takes one approved post somewhere (a folder, a webhook, one day
// a social network's API). Small contract, like a delivery Transport: it does
// one attempt; the queue runner (publish.ts) owns retries, backoff and state.

export interface PublishPost {
  /** Idempotency key: a hash of everything published; the same post always has the same key. */
  key: string;
  edition: string;
  itemId: string;
  platform: string;
  format: string;
  caption: string;
  /** Who approved it. */
  editor: string;
  approvedAt: string;
  card: { file: string; sha256: string; width: number; height: number; kind: string };
  /** The story or 數讀 item the card shows, for the receiver's logs. */
  title?: string;
  url?: string;
  /** Image description for screen readers: the headline, or the figures in words. */
  alt: string;
}

/** What a publisher hands back: a short receipt, and for a social post its id and link. */
export interface Receipt {
  response: string;
  postId?: string;
  url?: string;
}

export interface Publisher {
  name: string;
  /** One attempt. Resolve with a short receipt; throw PublishError to say whether to retry. */
  publish(post: PublishPost): Promise<Receipt>;
  /**
   * Look for the post an earlier attempt may have made (a timeout after the
   * platform accepted it, a crash mid-send). Called before any retry; undefined
   * = not there, send it. Publishers whose platform dedupes by an idempotency
   * key (or a deterministic record key) may leave it out.
   */
  find?(post: PublishPost): Promise<Receipt | undefined>;
}

export type PublisherFactory = (ctx: Context, secret: Buffer) => Publisher;

/** A failed attempt. `permanent`: retrying the same request cannot help (a 4xx, a missing card). */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PublishError';
  }
}
