import { Command, CommanderError, Option } from 'commander';
import { formatErrorChain } from '../errors/index.ts';
import { commands } from './commands/index.ts';

const program = new Command('broadsheet')
  .description('Newsroom pipeline: content → email digest + social cards → send or stage for editors')
  .option('--config <file>', 'configuration file', undefined)
  .option('--content <dir>', 'content folder (default: content/)')
  .option('--out <dir>', 'output folder (default: out/)')
  .option('--store <file>', 'SQLite store (default: data/broadsheet.db)')
  .addOption(new Option('--json', 'machine-readable output on stdout'))
  .showHelpAfterError()
  .exitOverride();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help / version print and exit 0; every other parse problem is bad usage.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`${formatErrorChain(err)}\n`);
    process.exitCode = 1;
  }
}
