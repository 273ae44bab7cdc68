import type { Awaitable, Backend } from './backend.ts';
import type { DB } from './db.ts';

/** A row in `runs` for each send (and, later, each scheduled job). */
export function startRun(db: DB, kind: string, edition: string | undefined, now: Date): number {
  const r = db
    .prepare('INSERT INTO runs (kind, edition, pid, started_at) VALUES (?, ?, ?, ?)')
    .run(kind, edition ?? null, process.pid, now.toISOString());
  return Number(r.lastInsertRowid);
}

export function finishRun(db: DB, id: number, status: 'ok' | 'failed', summary: unknown, now: Date) {
  db.prepare('UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?').run(
    now.toISOString(),
    status,
    JSON.stringify(summary),
    id,
  );
}

// The runs table behind one interface (issue 17): the SQLite functions above
// (unchanged) and src/store/pg/runs.ts. Callers `await`.
export interface RunStore {
  startRun(kind: string, edition: string | undefined, now: Date): Awaitable<number>;
  finishRun(id: number, status: 'ok' | 'failed', summary: unknown, now: Date): Awaitable<void>;
}

export const sqliteRuns = (db: DB): RunStore => ({
  startRun: (kind, edition, now) => startRun(db, kind, edition, now),
  finishRun: (id, status, summary, now) => finishRun(db, id, status, summary, now),
});

/** The runs store of an open backend (PostgreSQL's module imported on use). */
export async function runsFor(b: Backend): Promise<RunStore> {
  if (b.kind === 'sqlite') return sqliteRuns(b.db);
  const { pgRuns } = await import('./pg/runs.ts');
  return pgRuns(b.pool, b.url);
}
