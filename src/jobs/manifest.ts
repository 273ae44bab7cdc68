import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StagedVariant } from '../email/files.ts';

// out/<edition-id>/manifest.json (DESIGN.md § Output layout). Paths inside are
// relative to the edition folder so the folder can be moved or served as is.
export interface ManifestCard {
  id: string;
  /** The content item the card shows (article id, stat set id …). */
  itemId: string;
  kind: string;
  format: string;
  width: number;
  height: number;
  path: string;
  sha256: string;
  /** Hash of everything that went into the card; unchanged → not rendered again. */
  inputHash: string;
}

/** A contact sheet: every card of one format on one PNG (src/cards/contact.ts). */
export interface ManifestContact {
  format: string;
  path: string;
  width: number;
  height: number;
  sha256: string;
}

export interface ManifestPost {
  itemId: string;
  platform: string;
  path: string;
  text: string;
  /** Length as the platform counts it (X: twitter-text weighted length). */
  length: number;
  limit: number;
}

export interface Manifest {
  version: 1;
  edition: {
    id: string;
    name: string;
    date: string;
    timezone: string;
    locale: string;
    title: string;
    articles: { id: string; title: string; url: string; priority: number; sourcePath: string }[];
    stats: { id: string; title: string; sourcePath: string }[];
    leftOut: string[];
  };
  generatedAt: string;
  digest?: {
    subject: string;
    html: string;
    text: string;
    bytes: number;
    /** Stories dropped to stay under the size limit, by id. */
    dropped: string[];
    /** Locale variants by locale, the edition's own first (src/email/files.ts). */
    variants?: Record<string, StagedVariant>;
    /** Hash of everything the digest is made from: unchanged → kept, not compiled (src/jobs/digest-cache.ts). */
    inputHash?: string;
    /** Each staged digest file (relative path) with its sha256 when written. */
    files?: Record<string, string>;
    /** The warnings the compile gave, repeated when the digest is kept. */
    warnings?: string[];
  };
  cards: ManifestCard[];
  /** Contact sheets, one per format (absent in manifests from before they were listed). */
  contact?: ManifestContact[];
  posts: ManifestPost[];
  /** Items that failed to render: reported, and the rest of the edition still built. */
  failures: { itemId: string; format?: string; code: string; message: string }[];
}

/** out/<edition-id>/manifest.json as the last build left it, or undefined when there is none (or it is unreadable). */
export async function readManifest(editionDir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(join(editionDir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}
