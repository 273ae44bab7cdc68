import { appSecret } from '../config/secret.ts';
import type { Context } from '../context.ts';
import { tokenKeys } from '../delivery/tokens.ts';
import type { Edition } from '../edition/model.ts';
import type { LinkPolicy } from '../email/view.ts';
import { issueClick, issueOpen, issueReaderRef } from './token.ts';

// Where the digest's article links point when analytics.enabled: one /r/ link
// per story (the same for every reader and every link to that story, so the
// digest is still compiled once per edition), plus the reader's own part as
// the merge field reader_ref when analytics.perReader.
//
// What is rewritten: the links to the edition's articles (lead picture, lead
// headline, read more, each story's headline and thumbnail) — the newsroom's
// own articles. Unsubscribe, preferences, view-online, website and the 數讀
// "more" link (to the archive) are never rewritten.

export const clickUrl = (publicUrl: string, token: string) => new URL(`r/${token}`, publicUrl).href;
export const openUrl = (publicUrl: string, token: string) => new URL(`o/${token}`, publicUrl).href;

/** The link policy for an edition's digest, or undefined when analytics is off. */
export function linkPolicy(
  ctx: Pick<Context, 'config' | 'secrets' | 'paths' | 'logger'>,
  edition: Edition,
): LinkPolicy | undefined {
  const a = ctx.config.analytics;
  if (!a.enabled) return undefined;
  const keys = tokenKeys(appSecret(ctx));
  const base = ctx.config.publicUrl;
  return {
    story: (art) => clickUrl(base, issueClick(keys, { edition: edition.id, story: art.id, url: art.url })),
    perReader: a.perReader,
    pixel: a.openPixel ? openUrl(base, issueOpen(keys, edition.id)) : null,
  };
}

/** The merge value reader_ref for one reader: "/<ref>" with analytics.perReader, else "". */
export function readerRefValue(
  ctx: Pick<Context, 'config' | 'secrets' | 'paths' | 'logger'>,
  keys: readonly Buffer[],
  edition: string,
  subscriberId: number,
): string {
  const a = ctx.config.analytics;
  return a.enabled && a.perReader ? `/${issueReaderRef(keys, edition, subscriberId)}` : '';
}
