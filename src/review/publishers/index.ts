import type { PublisherName } from '../config.ts';
import type { PublisherFactory } from '../publisher.ts';
import { folderPublisher } from './folder.ts';
import { webhookPublisher } from './webhook.ts';

/** One line per publisher: a new one is one file plus one line here (and its name in config.ts). */
export const publishers: Record<PublisherName, PublisherFactory> = {
  folder: folderPublisher,
  webhook: webhookPublisher,
};
