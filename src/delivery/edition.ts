import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../context.ts';
import { readDigestVariants } from '../email/files.ts';
import { BroadsheetError } from '../errors/index.ts';
import { readManifest } from '../jobs/manifest.ts';
import type { SendInput } from './send.ts';

/**
 * What `send` sends: the digest exactly as `build` staged it in
 * out/<edition-id>/ (manifest + digest/index.html + digest/digest.txt), so
 * the readers get what the editors saw. Without a staged digest for the
 * edition, the edition is selected from content/ and its digest rendered.
 */
export async function loadSendInput(ctx: Context, editionId?: string): Promise<SendInput> {
  if (editionId) {
    const staged = await readStaged(ctx, editionId);
    if (staged) return staged;
  }
  const [{ editionFromContent }, { renderDigest }] = await Promise.all([
    import('../jobs/edition.ts'),
    import('../email/index.ts'),
  ]);
  const { edition } = await editionFromContent(ctx, { id: editionId });
  const staged = await readStaged(ctx, edition.id);
  if (staged) return staged;
  const digest = await renderDigest(edition, ctx);
  if (!digest) throw new BroadsheetError('SEND_NO_DIGEST', { edition: edition.id });
  return { editionId: edition.id, list: edition.name, listName: edition.title, digest };
}

async function readStaged(ctx: Context, editionId: string): Promise<SendInput | undefined> {
  const dir = join(ctx.paths.out, editionId);
  const manifest = await readManifest(dir);
  if (!manifest?.digest || manifest.edition?.id !== editionId) return undefined;
  const [html, text] = await Promise.all([
    readFile(join(dir, manifest.digest.html), 'utf8'),
    readFile(join(dir, manifest.digest.text), 'utf8'),
  ]);
  return {
    editionId,
    list: manifest.edition.name,
    listName: manifest.edition.title,
    // The locale variants build staged (zh-Hans …), so each reader gets the compiled one.
    digest: {
      subject: manifest.digest.subject,
      html,
      text,
      variants: await readDigestVariants(dir, manifest.digest.variants),
    },
  };
}
