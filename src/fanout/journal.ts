import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Context, localDataDir } from '../context.ts';
import { alive } from '../store/lease.ts';
import type { PgPool } from '../store/pg/pool.ts';
import type { BatchJob } from './queue.ts';

// The host-local "dot journal" (issue 17): closes the PostgreSQL send's loss
// window on a killed worker. Right before the transport writes a message's
// end-of-data ".", after its row's COMMIT is durable, the worker appends
// `<edition>\t<subscriberId>\n` with one synchronous write (no fsync: a SIGKILL
// keeps the page cache). After a process kill, a row `committed` by the dead
// instance and NOT in its journal never had its "." handed to the kernel: the
// MTA dropped the transaction, so it goes back to `deferred` (compare-and-set)
// and is sent again. Journaled rows stay `committed` (in doubt). The first line
// holds the host's boot id: after a host crash the journal proves nothing and
// the rows stay in doubt, as without it.

const MAGIC = 'broadsheet-fanout-journal 1';

/** The local data folder (as feed-cache.json): beside the SQLite file, or paths.store's folder for a URL. */
export const journalDir = (ctx: Context) => join(localDataDir(ctx), 'fanout-journal');

/** The running kernel's boot id ('' where there is none: then nothing is ever reconciled). */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

const fileOf = (dir: string, instance: string) =>
  join(dir, `${instance.replace(/[^A-Za-z0-9._@-]/g, '_')}.log`);

/** One worker instance's journal, created on its first line. */
export class DotJournal {
  readonly file: string;
  private fd: number | undefined;
  constructor(
    readonly dir: string,
    readonly instance: string,
    private readonly boot = bootId(),
  ) {
    this.file = fileOf(dir, instance);
  }

  /** The "." of this row is about to be written. Synchronous: nothing may run between this and the write. */
  dot(edition: string, subscriberId: number): void {
    if (this.fd === undefined) {
      mkdirSync(this.dir, { recursive: true });
      this.fd = openSync(this.file, 'a', 0o600);
      writeSync(this.fd, `${MAGIC}\t${this.boot}\t${process.pid}\t${hostname()}\t${this.instance}\n`);
    }
    writeSync(this.fd, `${edition}\t${subscriberId}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface JournalFile {
  file: string;
  boot: string;
  pid: number;
  host: string;
  instance: string;
  /** `edition\tsubscriberId` of every complete line. */
  dots: Set<string>;
}

export function readJournal(file: string): JournalFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  lines.pop(); // a last line without its newline was not written whole: its "." had not gone either
  const [magic, boot = '', pid = '', host = '', instance = ''] = (lines.shift() ?? '').split('\t');
  if (magic !== MAGIC || !instance) return undefined;
  return { file, boot, pid: Number(pid), host, instance, dots: new Set(lines) };
}

export interface Reconciled {
  /** Journals of dead instances read (and removed). */
  journals: number;
  /** Rows moved back to deferred: their "." never left. */
  deferred: number;
  /** Committed rows with a journal line: left in doubt. */
  inDoubt: number;
  /** Journals from an earlier boot, removed without touching any row. */
  stale: number;
  /** The batches the deferred rows belong to, to be sent again. */
  ranges: BatchJob[];
}

/**
 * Settle one dead instance from its journal: its committed rows with no line go
 * back to deferred (compare-and-set on state and worker), its claims are freed.
 */
export async function reconcileJournal(
  pool: PgPool,
  j: JournalFile,
  batchSize: number,
  out: Reconciled,
  note = 'the worker stopped before the end-of-data was written (dot journal)',
): Promise<void> {
  const rows = (
    await pool.query<{ edition: string; id: number }>(
      `SELECT edition, subscriber_id AS id FROM sends WHERE worker = $1 AND state = 'committed'`,
      [j.instance],
    )
  ).rows;
  const back = new Map<string, number[]>();
  for (const r of rows) {
    if (j.dots.has(`${r.edition}\t${Number(r.id)}`)) out.inDoubt++;
    else back.set(r.edition, [...(back.get(r.edition) ?? []), Number(r.id)]);
  }
  const ranges = new Map<string, BatchJob>();
  for (const [edition, ids] of back) {
    const moved = await pool.query<{ id: number; transport: string | null }>(
      `UPDATE sends SET state = 'deferred', worker = NULL, claimed_until = NULL, last_error = $4, updated_at = $5
       WHERE edition = $1 AND subscriber_id = ANY($2::bigint[]) AND state = 'committed' AND worker = $3
       RETURNING subscriber_id AS id, transport`,
      [edition, ids, j.instance, note, new Date().toISOString()],
    );
    out.deferred += moved.rowCount ?? 0;
    for (const m of moved.rows) {
      const lo = Math.floor(Number(m.id) / batchSize) * batchSize;
      const transport = m.transport ?? 'smtp';
      ranges.set(`${edition}\0${lo}\0${transport}`, { edition, lo, hi: lo + batchSize, transport });
    }
  }
  // Its claims on rows it never committed: free at once (it is dead), not after the lease.
  await pool.query(
    `UPDATE sends SET worker = NULL, claimed_until = NULL WHERE worker = $1 AND state IN ('queued','deferred')`,
    [j.instance],
  );
  out.ranges.push(...ranges.values());
}

/**
 * Every journal in `dir` of an instance of this host that is dead: settled and
 * removed. Live instances' journals (and other hosts', on a shared folder) are never touched.
 */
export async function reconcileDead(pool: PgPool, dir: string, batchSize: number): Promise<Reconciled> {
  const out: Reconciled = { journals: 0, deferred: 0, inDoubt: 0, stale: 0, ranges: [] };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.log'));
  } catch {
    return out;
  }
  const boot = bootId();
  const host = hostname();
  for (const name of names) {
    const file = join(dir, name);
    const j = readJournal(file);
    if (!j || j.host !== host) continue;
    if (j.boot !== boot || !boot) {
      // Written before this boot: a host crash may have lost its page cache. Rows stay in doubt.
      if (boot && j.boot !== boot) {
        out.stale++;
        removeQuietly(file);
      }
      continue;
    }
    if (!Number.isInteger(j.pid) || j.pid <= 0 || alive(j.pid)) continue;
    await reconcileJournal(pool, j, batchSize, out);
    out.journals++;
    removeQuietly(file);
  }
  return out;
}

export function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {}
}
