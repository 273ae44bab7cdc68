import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { DB } from './db.ts';

// WAL checkpoints of a long send, off the event loop (issue 16).
//
// A send commits one small transaction per message (~6 pages of WAL). SQLite's
// automatic checkpoint (every 1,000 WAL pages, about every 170 messages) runs
// inside the commit that crosses the mark, on the sending thread, and with
// synchronous=NORMAL it fsyncs the WAL and then the database file: 1–10 ms during
// which no reply is read and no message written, on every connection at once
// (bench: half the wall time of a send's commits, with the same CPU).
//
// While a send runs, the sending connection's automatic checkpoint is off, and
// once it has changed `minChanges` rows since the last round (checked every
// `everyMs`; 1,000 rows is ~500 messages, 2,500–3,000 WAL pages) a worker
// thread with its own connection runs a PASSIVE checkpoint: the copy of the WAL
// into the database file and its two fsyncs happen there. PASSIVE never blocks
// (nor waits for) the writer, so the sender keeps committing meanwhile — which
// is also why the worker alone never empties the WAL: SQLite starts the WAL over
// only at a write that finds every frame copied. So after every `finishEvery`
// worker rounds the sending connection runs a PASSIVE checkpoint of its own —
// only the frames committed during the worker's last one — after which the next
// commit starts the WAL from its beginning again. That one still fsyncs on the
// sending thread (a few ms on a busy disk), hence only every 4th round. When
// the send ends, the worker copies what is left and truncates the WAL file
// (TRUNCATE, never waiting: left as is when someone is reading).
//
// Nothing about what a commit means changes: a commit is in the WAL when it
// returns, as before; a checkpoint only copies committed pages into the database
// file, with the connection's own synchronous setting. The WAL holds at most
// `finishEvery` rounds' worth during a send (~50 MB in the send bench). When the
// send ends the sending connection's setting comes back; if the worker cannot
// start or fails, it comes back at once (the send goes on as before).

export interface Checkpointer {
  /** Rounds completed so far (the worker's checkpoint, then the sending connection's). */
  readonly rounds: number;
  /** Settles once the worker is ready (true: the automatic checkpoint is off) or could not start (false). */
  readonly ready: Promise<boolean>;
  /** Restores the connection's automatic checkpoint (its next commit past the mark checkpoints) and ends the worker. */
  stop(): Promise<void>;
}

// CommonJS, evaluated in the worker: no TypeScript, no build step involved.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = ' + workerData.synchronous);
const run = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next round tries again */ }
};
parentPort.on('message', (m) => {
  if (m === 'checkpoint') {
    run();
    parentPort.postMessage('done');
    return;
  }
  // The send is over: copy what is left and cut the WAL file back (never waits: busy_timeout 0).
  try { db.pragma('wal_checkpoint(TRUNCATE)'); } catch { /* a reader or writer is active: left as is */ }
  db.close();
  parentPort.close();
});
parentPort.postMessage('ready');
`;

const sqliteModule = () => createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Moves `db`'s WAL checkpoints to a worker thread until stop(). Returns undefined
 * (nothing changed) for an in-memory or read-only store, or one not in WAL mode.
 */
export function checkpointInWorker(
  db: DB,
  opts: { everyMs?: number; minChanges?: number; finishEvery?: number } = {},
): Checkpointer | undefined {
  if (db.memory || db.readonly) return undefined;
  if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined;
  const before = Number(db.pragma('wal_autocheckpoint', { simple: true }));
  if (!(before > 0)) return undefined;
  const synchronous = Number(db.pragma('synchronous', { simple: true }));
  let onReady: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => {
    onReady = resolve;
  });
  let restored = false;
  const restore = () => {
    onReady(false);
    if (restored) return;
    restored = true;
    try {
      if (db.open) db.pragma(`wal_autocheckpoint = ${before}`);
    } catch {
      // the connection is closing: nothing to restore on it
    }
  };
  let worker: Worker;
  try {
    worker = new Worker(WORKER, {
      eval: true,
      workerData: { module: sqliteModule(), file: db.name, synchronous },
    });
  } catch {
    return undefined;
  }
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  let rounds = 0;
  // Rows this connection changed (SQLite's total_changes()): a send's WAL grows with them.
  const changes = db.prepare('SELECT total_changes()').pluck();
  const minChanges = opts.minChanges ?? 1000;
  let changedAt = 0;
  const finishEvery = opts.finishEvery ?? 4;
  let sinceFinish = 0;
  const round = () => {
    if (busy || restored) return;
    try {
      const n = changes.get() as number;
      if (n - changedAt < minChanges) return;
      changedAt = n;
    } catch {
      return; // the connection is closing
    }
    busy = true;
    worker.postMessage('checkpoint');
  };
  // Off only once the worker's connection is open; back on if it fails at any time.
  worker.on('message', (m) => {
    if (m === 'ready' && !restored) {
      try {
        db.pragma('wal_autocheckpoint = 0');
      } catch {
        return restore(); // the connection closed first: nothing to move
      }
      onReady(true);
      timer = setInterval(round, opts.everyMs ?? 20);
      timer.unref();
    } else if (m === 'done') {
      busy = false;
      if (restored) return;
      rounds++;
      if (++sinceFinish < finishEvery) return;
      sinceFinish = 0;
      try {
        // The frames committed while the worker ran: few, and then the WAL starts over.
        db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // busy or closing: the next round (or the restored automatic checkpoint) does it
      }
    }
  });
  worker.on('error', restore);
  void exited.then(restore);
  return {
    get rounds() {
      return rounds;
    },
    ready,
    async stop() {
      clearInterval(timer);
      restore();
      worker.postMessage('stop');
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => (wait = setTimeout(r, 5000)))]);
      clearTimeout(wait);
      await worker.terminate();
    },
  };
}
