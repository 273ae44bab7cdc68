import { type ChildProcess, spawn } from 'node:child_process';
import { BIN, ROOT } from './cli.ts';

/** Start `broadsheet serve --port 0 …` and resolve with its base URL once it listens. */
export async function startServe(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ base: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!.replace(/\/$/, ''));
    });
    proc.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  return { base, proc };
}
