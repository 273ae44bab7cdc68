import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BroadsheetError } from '../errors/index.ts';
import { displayStore, type StoreTarget } from './backend.ts';
import type { StoreConfig } from './config.ts';
import { planCopy } from './copy-schema.ts';
import { heldBy, type LiveLease, type SourceSide, type TargetSide } from './copy-side.ts';

/**
 * `broadsheet store copy --from A --to B` (issue 17): move a newsroom's data
 * between stores — SQLite → PostgreSQL to scale out, PostgreSQL → SQLite to
 * come back, or either to a fresh one of its kind.
 *
 *   - The table and column lists come from the source's live schema, parents
 *     before children (foreign keys); SKIPPED_TABLES (copy-schema.ts) are the
 *     process-state tables never copied. A table a later migration adds is
 *     copied with no change here.
 *   - The source is read inside one snapshot (SQLite: a read transaction;
 *     PostgreSQL: REPEATABLE READ READ ONLY), a batch at a time: no table is
 *     held in memory. Writers of the source go on; what they write after the
 *     snapshot is not in the copy.
 *   - The target is migrated first, then written in ONE transaction: counts are
 *     checked inside it before COMMIT, so a failure or a kill at any moment
 *     leaves the target as it was (empty).
 */
export interface CopyOptions {
  /** Empty the target's tables inside the copy's transaction (else a non-empty target is refused). */
  replace?: boolean;
  /** Copy although a send holds a live lease on the source (or target). */
  force?: boolean;
  /** Rows per batch read from the source. */
  batchSize?: number;
  onProgress?: (p: { table: string; done: number; total: number }) => void;
}

export interface CopyResult {
  from: string;
  to: string;
  fromKind: StoreTarget['kind'];
  toKind: StoreTarget['kind'];
  version: number;
  /** Rows per table, in the order copied (checked: source snapshot = read = target). */
  tables: { table: string; rows: number }[];
  skipped: { table: string; reason: string }[];
  rows: number;
  replaced: boolean;
  /** Live send leases --force copied past. */
  forced: LiveLease[];
  ms: number;
}

const SEND_LEASES = 'send:';

export async function copyStore(
  from: StoreTarget,
  to: StoreTarget,
  cfg: StoreConfig,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  const started = Date.now();
  if (sameAddress(from, to)) throw new BroadsheetError('STORE_COPY_SAME', { store: displayStore(from) });
  const source = await openSource(from, cfg);
  let target: TargetSide | undefined;
  try {
    target = await openTarget(to, cfg);
    if (source.kind === 'postgres' && target.kind === 'postgres') {
      // Two URLs can name one database (localhost / 127.0.0.1, a DNS alias, a pooler).
      const { PgTarget } = await import('./copy-pg.ts');
      if (target instanceof PgTarget && source.tag && (await target.sees(source.tag)))
        throw new BroadsheetError('STORE_COPY_SAME', { store: displayStore(from) });
    }
    await target.migrate();
    return await copyBetween(source, target, from.kind, to.kind, opts, started);
  } finally {
    await target?.close().catch(() => {});
    await source.close().catch(() => {});
  }
}

async function copyBetween(
  source: SourceSide,
  target: TargetSide,
  fromKind: StoreTarget['kind'],
  toKind: StoreTarget['kind'],
  opts: CopyOptions,
  started: number,
): Promise<CopyResult> {
  const names = { from: source.display, to: target.display };
  await source.snapshot();
  const [fromVersion, toVersion] = [await source.version(), await target.version()];
  if (fromVersion !== toVersion)
    throw new BroadsheetError('STORE_COPY_VERSION_MISMATCH', { ...names, fromVersion, toVersion });
  const sourceTables = await source.tables();
  const plan = planCopy(sourceTables, await target.tables(), names);

  const forced: LiveLease[] = [];
  const has = (table: string, ...cols: string[]) =>
    sourceTables.some((t) => t.name === table && cols.every((c) => t.columns.includes(c)));
  for (const side of [source, target]) {
    const live = [
      ...(has('leases', 'name', 'expires_at') ? await side.liveLeases(SEND_LEASES) : []),
      ...(has('sends', 'worker', 'claimed_until') ? await side.liveClaims() : []),
    ];
    if (live.length && !opts.force) {
      const l = live[0]!;
      throw new BroadsheetError('STORE_COPY_SEND_RUNNING', {
        store: side.display,
        lease: l.pid ? `lease "${l.name}"` : `claim on ledger rows (${l.name})`,
        by: heldBy(l),
        seconds: Math.ceil(l.msLeft / 1000),
      });
    }
    forced.push(...live);
  }

  const order = plan.copy.map((t) => t.name);
  await target.begin(order);
  try {
    const present: { t: string; n: number }[] = [];
    for (const t of order) {
      const n = await target.count(t);
      if (n) present.push({ t, n });
    }
    if (present.length && !opts.replace) {
      // The biggest tables first: what the operator would lose.
      present.sort((a, b) => b.n - a.n || a.t.localeCompare(b.t));
      const listed = present.slice(0, 6).map((p) => `${p.t} ${p.n}`);
      throw new BroadsheetError('STORE_COPY_TARGET_NOT_EMPTY', {
        to: target.display,
        tables: `${present.reduce((s, p) => s + p.n, 0)} rows in ${present.length} tables: ${listed.join(', ')}${present.length > 6 ? `, … ${present.length - 6} more` : ''}`,
      });
    }
    if (present.length) await target.empty([...order].reverse());

    const tables: CopyResult['tables'] = [];
    const size = opts.batchSize ?? 1000;
    for (const t of plan.copy) {
      const total = await source.count(t.name);
      let done = 0;
      for await (const batch of source.read(t.name, t.columns, size)) {
        await target.insert(t.name, t.columns, batch);
        done += batch.length;
        opts.onProgress?.({ table: t.name, done, total });
      }
      const held = await target.count(t.name);
      if (held !== total || done !== total)
        throw new BroadsheetError('STORE_COPY_COUNT_MISMATCH', {
          table: t.name,
          source: total,
          copied: done,
          target: held,
        });
      tables.push({ table: t.name, rows: total });
    }
    await target.finish(plan.copy);
    await target.commit();
    return {
      ...names,
      fromKind,
      toKind,
      version: toVersion,
      tables,
      skipped: plan.skipped,
      rows: tables.reduce((s, t) => s + t.rows, 0),
      replaced: present.length > 0,
      forced,
      ms: Date.now() - started,
    };
  } catch (err) {
    await target.rollback();
    throw err;
  }
}

async function openSource(t: StoreTarget, cfg: StoreConfig): Promise<SourceSide> {
  if (t.kind === 'sqlite') return (await import('./copy-sqlite.ts')).openSqliteSource(t.file);
  return (await import('./copy-pg.ts')).openPgSource(t.url, cfg);
}

async function openTarget(t: StoreTarget, cfg: StoreConfig): Promise<TargetSide> {
  if (t.kind === 'sqlite') return (await import('./copy-sqlite.ts')).openSqliteTarget(t.file);
  return (await import('./copy-pg.ts')).openPgTarget(t.url, cfg);
}

/**
 * The same store named twice, as far as the addresses tell: one file (through
 * symlinks and hard links), or one URL. Two PostgreSQL URLs for one database
 * are caught once connected (PgTarget.sees).
 */
function sameAddress(a: StoreTarget, b: StoreTarget): boolean {
  if (a.kind === 'sqlite' && b.kind === 'sqlite') {
    if (a.file === ':memory:' || b.file === ':memory:') return false;
    const [fa, fb] = [canonical(a.file), canonical(b.file)];
    if (fa === fb) return true;
    try {
      const [sa, sb] = [statSync(a.file), statSync(b.file)];
      return sa.dev === sb.dev && sa.ino === sb.ino;
    } catch {
      return false;
    }
  }
  if (a.kind === 'postgres' && b.kind === 'postgres') return normalUrl(a.url) === normalUrl(b.url);
  return false;
}

function canonical(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    try {
      return join(realpathSync(dirname(file)), basename(file));
    } catch {
      return file;
    }
  }
}

function normalUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname.toLowerCase()}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return url;
  }
}
