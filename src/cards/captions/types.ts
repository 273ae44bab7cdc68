import type { CardKind, Platform } from '../config.ts';

/** A caption's pieces after shortening, ready for a platform to put together. */
export interface CaptionParts {
  kind: CardKind;
  /** The headline, its kicker (專家解讀) separate: platforms mark it their own way. */
  kicker?: string;
  title: string;
  /** A quote with its speaker on one line: 「…」——劉權，副總工程師. */
  quote?: string;
  /** A paragraph (the dek). */
  body: string;
  /** One figure each (數讀); platforms that keep line breaks print one per line. */
  lines: string[];
  /** The link with its UTM parameters ('' on a platform that gets none). */
  url: string;
  /** Hashtags already in the platform's form (#話題 / #話題#). */
  tags: string[];
}

export interface PlatformRules {
  platform: Platform;
  /** The platform's hard limit, counted its way (length). */
  limit: number;
  /** A caption is not an article: the dek is cut to this many characters anyway. */
  softBody: number;
  /** Hashtags this platform's readers expect at most. */
  maxTags: number;
  /** A tag in this platform's form, or undefined if it cannot be one. */
  hashtag(tag: string): string | undefined;
  compose(p: CaptionParts): string;
  length(text: string): number;
}
