import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { loadDotEnv } from '../config/dotenv.ts';
import { formatErrorChain, isBroadsheetError } from '../errors/index.ts';
import { loadContextModules } from './app.ts';
import { commands } from './commands/index.ts';
import { guardProcess } from './guard.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function createProgram(register: ((program: Command) => void)[] = commands): Command {
  const program = new Command('broadsheet')
    .description('Newsroom pipeline: content → email digest + social cards → send or stage for editors')
    .version(pkg.version, '-V, --version', 'print the version and exit')
    .option('--config <file>', 'configuration file (default: broadsheet.config.yaml)')
    .option('--content <dir>', 'content folder (default: content/)')
    .option('--out <dir>', 'output folder (default: out/)')
    .option('--store <file>', 'SQLite store (default: data/broadsheet.db)')
    .addOption(new Option('--json', 'machine-readable output on stdout'))
    // `broadsheet send --help` lists --config, --store … too: they work on every command.
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError()
    .exitOverride()
    // Config, secrets and logger load only when a command runs (not for --help).
    .hook('preAction', loadContextModules);
  for (const r of register) r(program);
  return program;
}

/**
 * The whole CLI: .env first (before anything reads the environment), then the
 * command under the process guards. `register` lets a test fixture add a
 * command; bin/broadsheet.js passes nothing.
 */
export async function main(argv: string[], register?: ((program: Command) => void)[]): Promise<void> {
  const guard = guardProcess(() => argv.slice(2).join(' '));
  try {
    loadDotEnv();
    await createProgram(register).parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help / version print and exit 0; every other parse problem is bad usage.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
    } else {
      process.stderr.write(`${formatErrorChain(err)}\n`);
      process.exitCode = isBroadsheetError(err) ? err.exitCode : 1;
    }
  } finally {
    guard.settled();
  }
}
