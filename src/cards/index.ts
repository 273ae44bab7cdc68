// STUB — replaced by the cards stage (issue 4). Kept so `broadsheet build` runs.
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import type { Manifest, ManifestCard, ManifestPost } from '../jobs/manifest.ts';

export interface CardsResult {
  cards: ManifestCard[];
  posts: ManifestPost[];
  failures: Manifest['failures'];
}

/**
 * Render every configured card kind × format of the edition into
 * `<editionDir>/cards/<item-id>/<format>.png` plus captions. `previous` is the
 * last manifest's cards: a card whose inputHash is unchanged is kept, not redrawn.
 */
export async function renderCards(
  _edition: Edition,
  _ctx: Context,
  _opts: { editionDir: string; previous?: ManifestCard[] },
): Promise<CardsResult> {
  return { cards: [], posts: [], failures: [] };
}
