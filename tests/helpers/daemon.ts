// Real `broadsheet` processes for the scheduler tests: started as a user
// would (node bin/broadsheet.js), their JSON log lines collected from stderr,
// waited on by event (a log line, an exit, a row), never by a fixed time.
import { type ChildProcess, spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { BIN, ROOT } from './cli.ts';

export interface LogLine {
  msg?: string;
  level?: number;
  [k: string]: unknown;
}

export interface Proc {
  child: ChildProcess;
  lines: LogLine[];
  stdout(): string;
  waitLine(re: RegExp): Promise<LogLine>;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
afterEach(() => {
  for (const p of procs.splice(0))
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

export function start(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, DEBUG: '', LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters: { re: RegExp; done: (l: LogLine) => void }[] = [];
  let buf = '';
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const raw = buf.slice(0, i);
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
      let line: LogLine;
      try {
        line = JSON.parse(raw);
      } catch {
        line = { msg: raw };
      }
      lines.push(line);
      for (const w of [...waiters])
        if (w.re.test(line.msg ?? '')) {
          waiters.splice(waiters.indexOf(w), 1);
          w.done(line);
        }
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const p: Proc = {
    child,
    lines,
    exited,
    stdout: () => out,
    waitLine: (re) => {
      const hit = lines.find((l) => re.test(l.msg ?? ''));
      return hit ? Promise.resolve(hit) : new Promise((done) => waiters.push({ re, done }));
    },
  };
  procs.push(p);
  return p;
}

/** Run a command to its end: exit code, stdout, the log lines and the raw stderr text. */
export async function run(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const p = start(args, opts);
  const code = await p.exited;
  return { code, stdout: p.stdout(), lines: p.lines, stderr: p.lines.map((l) => l.msg ?? '').join('\n') };
}

export const pause = (ms = 50) => new Promise((r) => setTimeout(r, ms));

/** Poll the store (read-only) until `pred` holds. */
export async function until<T>(
  db: string,
  read: (d: Database.Database) => T,
  pred: (v: T) => boolean,
): Promise<T> {
  for (;;) {
    try {
      const d = new Database(db, { readonly: true });
      try {
        const v = read(d);
        if (pred(v)) return v;
      } finally {
        d.close();
      }
    } catch {
      // not created yet
    }
    await pause();
  }
}

/** Read the store once. */
export function read<T>(db: string, fn: (d: Database.Database) => T): T {
  const d = new Database(db, { readonly: true });
  try {
    return fn(d);
  } finally {
    d.close();
  }
}
