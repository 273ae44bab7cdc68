import { BroadsheetError, formatErrorChain, isBroadsheetError } from '../errors/index.ts';

// Node ends a process whose event loop has emptied while a top-level await is
// still waiting with exit 13 and no message — what a connection that never
// settles its promise used to do to `send`. No command may end like that, nor
// on a stray rejection with a raw stack: each ends with a catalog error and a
// real exit code, printed the way every other error is (formatErrorChain).

function die(err: unknown): never {
  const e = isBroadsheetError(err)
    ? err
    : new BroadsheetError(
        'INTERNAL',
        { detail: 'an error escaped every handler (a bug in Broadsheet)' },
        { cause: err },
      );
  process.stderr.write(`${formatErrorChain(e)}\n`);
  process.exit(e.exitCode);
}

/**
 * Install the process-level guards for one command run. `describe` names the
 * command for the message; call `settled()` once the command's promise has
 * settled (either way): from then on an empty event loop is a normal exit.
 */
export function guardProcess(describe: () => string): { settled(): void } {
  let settled = false;
  process.on('beforeExit', () => {
    // Fires when the loop is empty and nobody called process.exit: after a
    // normal finish (settled) — or when the command can never finish.
    if (settled) return;
    die(
      new BroadsheetError('INTERNAL', {
        detail: `command ended with work still pending (a promise never settled): broadsheet ${describe()}`,
      }),
    );
  });
  // `broadsheet subscribers list | head`: the reader left, nothing is wrong.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    die(err);
  });
  process.on('unhandledRejection', (reason) => die(reason));
  process.on('uncaughtException', (err) => die(err));
  return {
    settled: () => {
      settled = true;
    },
  };
}
