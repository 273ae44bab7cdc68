import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../../util/atomic.ts';
import { PublishError, type PublisherFactory } from '../publisher.ts';

// A bundle per platform: <dir>/<platform>/<edition>--<item>/{card.png, caption.txt, post.json}.
// Each file is written atomically and post.json last, so a folder with a
// post.json is complete; writing the same post again rewrites the same bytes,
// which is what makes a retry after a crash harmless.

export const folderPublisher: PublisherFactory = (ctx) => {
  const cfg = ctx.config.review.folder;
  const root = isAbsolute(cfg.dir) ? cfg.dir : resolve(ctx.paths.out, cfg.dir);
  return {
    name: 'folder',
    async publish(post) {
      if (!existsSync(post.card.file)) throw new PublishError(`card missing: ${post.card.file}`, true);
      const dir = join(root, post.platform, `${post.edition}--${post.itemId}`);
      writeFileAtomicSync(join(dir, 'card.png'), readFileSync(post.card.file));
      writeFileAtomicSync(join(dir, 'caption.txt'), `${post.caption}\n`);
      const { file: _file, ...card } = post.card;
      writeFileAtomicSync(
        join(dir, 'post.json'),
        `${JSON.stringify({ ...post, card: { ...card, path: 'card.png' }, caption: post.caption }, null, 2)}\n`,
      );
      return { response: dir };
    },
  };
};
