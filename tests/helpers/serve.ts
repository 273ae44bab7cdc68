import { type ChildProcess, spawn } from 'node:child_process';
import { BIN, ROOT } from './cli.ts';

/**
 * Start `broadsheet serve --port 0 …` and resolve with its base URL once it listens.
 * `logs()` is what it wrote on stderr so far (JSON log lines), when `captureStderr`.
 */
export async function startServe(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { captureStderr?: boolean } = {},
): Promise<{ base: string; proc: ChildProcess; logs: () => string }> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', opts.captureStderr ? 'pipe' : 'inherit'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!.replace(/\/$/, ''));
    });
    proc.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { base, proc, logs: () => err };
}

/** Stop a server started by startServe and wait until its process is gone. */
export async function stopServe(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  await gone;
}
