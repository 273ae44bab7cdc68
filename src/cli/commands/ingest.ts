// STUB — the feed-ingestion helper replaces this file.
import type { Command } from 'commander';

export function registerIngest(program: Command) {
  program.command('ingest <source>').description('feed items (RSS, Atom, JSON Feed; file or URL) → content/articles');
}
