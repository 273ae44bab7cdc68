import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import type { EditionRef, ItemView } from './editions.ts';
import { cardFile, cardForPost } from './editions.ts';

// The approved bundle for download: the same layout the folder publisher
// writes (<platform>/<edition>--<item>/card.png, caption.txt, post.json) plus
// an index.json, as a zip. fflate: maintained, no dependencies, pure JS;
// PNGs are stored, not deflated (they are compressed already).

export function approvedBundle(
  e: EditionRef,
  list: Pick<ItemView, 'id' | 'title' | 'url' | 'cards' | 'posts'>[],
): { zip: Uint8Array; count: number } {
  const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  const index: unknown[] = [];
  const enc = new TextEncoder();
  for (const it of list) {
    for (const p of it.posts) {
      if (p.status !== 'approved' && p.status !== 'published') continue;
      const card = cardForPost(it, p);
      const file = card && cardFile(e, card);
      if (!card || !file) continue;
      const dir = `${p.platform}/${e.id}--${it.id}`;
      const meta = {
        edition: e.id,
        itemId: it.id,
        platform: p.platform,
        status: p.status,
        format: card.format,
        caption: p.caption,
        title: it.title,
        url: it.url,
        editor: p.decision?.editor,
        decidedAt: p.decision?.updatedAt,
        card: {
          path: 'card.png',
          sha256: card.sha256,
          width: card.width,
          height: card.height,
          kind: card.kind,
        },
      };
      files[`${dir}/card.png`] = [readFileSync(file), { level: 0 }];
      files[`${dir}/caption.txt`] = [enc.encode(`${p.caption}\n`), { level: 6 }];
      files[`${dir}/post.json`] = [enc.encode(`${JSON.stringify(meta, null, 2)}\n`), { level: 6 }];
      index.push({ ...meta, path: dir });
    }
  }
  files['index.json'] = [enc.encode(`${JSON.stringify(index, null, 2)}\n`), { level: 6 }];
  return { zip: zipSync(files), count: index.length };
}
