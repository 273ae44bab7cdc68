// STUB — replaced by the email stage (issue 3). Kept so `broadsheet build` runs.
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';

export interface DigestResult {
  subject: string;
  html: string;
  text: string;
  /** Bytes of the HTML part after a worst-case per-recipient merge. */
  bytes: number;
  /** Stories dropped to stay under email.maxBytes, by id. */
  dropped: string[];
  warnings: string[];
}

/** Render the edition's digest once (compile once per edition; merge per recipient later). */
export async function renderDigest(_edition: Edition, _ctx: Context): Promise<DigestResult | undefined> {
  return undefined;
}
