import { type Command, InvalidArgumentError } from 'commander';
import { FETCH_DEFAULTS } from '../../content/feeds/fetch.ts';
import type { IngestReport } from '../../content/feeds/ingest.ts';
import { UsageError } from '../../errors/index.ts';
import { action, createContext, globalsOf, printJson } from '../app.ts';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

interface IngestFlags {
  section?: string;
  source?: string;
  timeout?: number;
  maxBytes?: number;
  force?: boolean;
}

function summary(r: IngestReport): string {
  if (r.notModified) return `${r.source}: not modified since the last ingest; nothing written\n`;
  const lines = [
    `${r.source}: ${r.format} feed「${r.feedTitle ?? ''}」(${r.encoding}), ${r.items} item(s): ` +
      `${r.written.length} written, ${r.unchanged.length} unchanged, ${r.skipped.length} skipped`,
    ...r.written.map((w) => `  wrote ${w.path}`),
    ...r.skipped.map((s) => `  skipped ${s.item} → ${s.field}: ${s.reason}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function registerIngest(program: Command) {
  program
    .command('ingest <source>')
    .description('feed items (RSS, Atom, JSON Feed; file or URL) → content/articles')
    .option('--section <name>', 'section for every item (default: the item’s first category, else 新聞)')
    .option('--source <name>', 'source name for every item (default: the feed title)')
    .option(
      '--timeout <ms>',
      `HTTP deadline in milliseconds (default ${FETCH_DEFAULTS.timeoutMs})`,
      positiveInt,
    )
    .option('--max-bytes <n>', `largest feed accepted (default ${FETCH_DEFAULTS.maxBytes})`, positiveInt)
    .option('--force', 'ignore the remembered ETag / Last-Modified and fetch the whole feed')
    .action(
      action(async (source: string, flags: IngestFlags, cmd: Command) => {
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !/^https?:\/\//i.test(source))
          throw new UsageError(`ingest reads a file path or an http(s):// URL, not ${source.split(':')[0]}:`);
        const g = globalsOf(cmd);
        const ctx = createContext(g);
        // Imported on use: feedsmith and html-to-text are not needed by other commands.
        const { ingestFeed } = await import('../../content/feeds/ingest.ts');
        const report = await ingestFeed(ctx, source, {
          section: flags.section,
          source: flags.source,
          timeoutMs: flags.timeout,
          maxBytes: flags.maxBytes,
          force: flags.force,
        });
        if (g.json) printJson({ ...report, counts: countsOf(report) });
        else process.stdout.write(summary(report));
        return 0;
      }),
    );
}

const countsOf = (r: IngestReport) => ({
  written: r.written.length,
  unchanged: r.unchanged.length,
  skipped: r.skipped.length,
});
