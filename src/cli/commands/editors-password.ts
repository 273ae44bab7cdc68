import { BroadsheetError } from '../../errors/index.ts';

// Reading a secret for a command: typed on a terminal without echo, or piped
// in with --password-stdin. Never an argv value: those show in `ps` and in the
// shell's history.

/** Read a line from the terminal with echo off (raw mode); Ctrl-C aborts. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new BroadsheetError('EDITOR_PASSWORD_MISSING', { detail: 'interrupted at the prompt' }));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** All of stdin, less one trailing line break (what `echo` or a here-string adds). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A new password: from stdin with --password-stdin, else typed twice on a terminal. */
export async function newPassword(opts: { passwordStdin?: boolean }, who: string): Promise<string> {
  if (opts.passwordStdin) {
    const pw = await readStdin();
    if (!pw) throw new BroadsheetError('EDITOR_PASSWORD_MISSING', { detail: 'stdin was empty' });
    return pw;
  }
  if (!process.stdin.isTTY)
    throw new BroadsheetError('EDITOR_PASSWORD_MISSING', {
      detail: 'no terminal to prompt on and --password-stdin not given',
    });
  const a = await promptHidden(`New password for ${who}: `);
  const b = await promptHidden('Again: ');
  if (a !== b) throw new BroadsheetError('EDITOR_PASSWORD_MISSING', { detail: 'the two passwords differ' });
  return a;
}
