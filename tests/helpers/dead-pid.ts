import { spawn } from 'node:child_process';

/**
 * A pid known to be dead: a child that has exited and been reaped. No test
 * may assume that some fixed pid (999999) is free.
 */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}
