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
