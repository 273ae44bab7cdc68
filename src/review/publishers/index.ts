import type { PublisherName, SocialName } from '../config.ts';
import type { PublisherFactory } from '../publisher.ts';
import { bluesky } from './bluesky.ts';
import { facebook } from './facebook.ts';
import { folderPublisher } from './folder.ts';
import { instagram } from './instagram.ts';
import { linkedin } from './linkedin.ts';
import { mastodon } from './mastodon.ts';
import type { SocialPlatform } from './social.ts';
import { threads } from './threads.ts';
import { webhookPublisher } from './webhook.ts';
import { x } from './x.ts';

/** One line per publisher: a new one is one file plus one line here (and its name in config.ts). */
export const publishers: Record<PublisherName, PublisherFactory> = {
  folder: folderPublisher,
  webhook: webhookPublisher,
};

/** Social platforms: offered when their credentials are in the environment (src/review/publishers/social.ts). */
export const socialPlatforms: Partial<Record<SocialName, SocialPlatform>> = {
  bluesky,
  mastodon,
  x,
  threads,
  facebook,
  instagram,
  linkedin,
};
