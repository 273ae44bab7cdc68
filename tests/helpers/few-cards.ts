import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.ts';

/**
 * The working setup's broadsheet.config.yaml with only one card format and
 * kind (og × statset) instead of the sample's 234 cards, written to
 * `<dir>/few-cards.yaml`; returns its path (pass it with --config). For tests
 * that build or send an edition to test something else (summaries, logs,
 * branding, delivery, storage faults): rendering every card costs 15–20 s a
 * build. The full sample is still built by run-main.test.ts's first case,
 * which runs `run main` as `npm start` does. Relative paths in the file
 * resolve against the working folder, as with the real config.
 */
/** The YAML that limits a build to one format and kind, for tests writing their own config file. */
export const FEW_CARDS_YAML = 'cards:\n  formats: [og]\n  kinds: [statset]\n';

/** FEW_CARDS_YAML with direct article links (no click tracking): for tests that check which stories a digest links. */
export const DIRECT_LINKS_FEW_CARDS_YAML = `analytics:\n  enabled: false\n${FEW_CARDS_YAML}`;

/** The text fewCardsConfig writes. */
export function fewCardsText(extra = ''): string {
  const base = readFileSync(join(ROOT, 'broadsheet.config.yaml'), 'utf8');
  return `${base}\n${FEW_CARDS_YAML}${extra}`;
}

export function fewCardsConfig(dir: string, extra = ''): string {
  const file = join(dir, 'few-cards.yaml');
  writeFileSync(file, fewCardsText(extra));
  return file;
}
