// job_runs on both stores (issue 17): the rules the scheduler relies on —
// one row per job × occurrence, settled rows stay settled, a running row is
// taken over (attempts + 1), a dead process's failed row is retaken only when
// asked, skipped never overwrites — on SQLite and PostgreSQL alike.
import { expect, it } from 'vitest';
import type { Backend } from '../../src/store/backend.ts';
import { deadProcessError, jobRunsFor } from '../../src/store/jobs.ts';
import { describeStores } from '../helpers/stores.ts';

const at = (iso: string) => new Date(iso);
const base = { job: 'main', kind: 'build', trigger: 'schedule' as const };
const occ = (h: number) => `2025-12-10T${String(h).padStart(2, '0')}:00:00.000Z`;

async function exec(b: Backend, sql: string, args: unknown[] = []) {
  if (b.kind === 'sqlite') b.db.prepare(sql.replace(/\$\d+/g, '?')).run(...args);
  else await b.pool.query(sql, args);
}

describeStores('job runs', (s) => {
  it('start → running; again while running → taken over (attempts 2); finished → settled, never rerun', async () => {
    const runs = await jobRunsFor(await s.open());
    const first = await runs.startJobRun({ ...base, occurrence: occ(10), now: at(occ(10)) }, 'h1');
    expect(first).toHaveProperty('id');
    const id = (first as { id: number }).id;
    expect(await runs.runningRuns()).toHaveLength(1);
    const again = await runs.startJobRun(
      { ...base, occurrence: occ(10), trigger: 'catch-up', now: at(occ(10)) },
      'h2',
    );
    expect(again).toEqual({ id });
    expect(await runs.getRun('main', occ(10))).toMatchObject({
      attempts: 2,
      host: 'h2',
      trigger: 'catch-up',
    });
    expect(
      await runs.finishJobRun(id, { outcome: 'ok', now: at(occ(11)), counts: { cards: 3 }, summary: 'done' }),
    ).toBe(true);
    expect(await runs.finishJobRun(id, { outcome: 'failed', now: at(occ(11)) })).toBe(false);
    const settled = await runs.startJobRun({ ...base, occurrence: occ(10), now: at(occ(12)) }, 'h1');
    expect(settled).toMatchObject({ settled: { id, outcome: 'ok', counts: { cards: 3 }, summary: 'done' } });
    expect(await runs.getRunById(id)).toMatchObject({ job: 'main', occurrence: occ(10), outcome: 'ok' });
  });

  it('a dead process’s run is retaken only with retakeDead; an interrupted-by-stop one never', async () => {
    const runs = await jobRunsFor(await s.open());
    const { id } = (await runs.startJobRun({ ...base, occurrence: occ(10), now: at(occ(10)) }, 'h')) as {
      id: number;
    };
    expect(await runs.markInterrupted(id, deadProcessError(123, 'h'), at(occ(10)))).toBe(true);
    expect(await runs.markInterrupted(id, 'again', at(occ(10)))).toBe(false);
    expect(await runs.startJobRun({ ...base, occurrence: occ(10), now: at(occ(10)) }, 'h')).toHaveProperty(
      'settled',
    );
    expect(
      await runs.startJobRun({ ...base, occurrence: occ(10), now: at(occ(10)), retakeDead: true }, 'h'),
    ).toEqual({ id });
    expect(await runs.getRunById(id)).toMatchObject({
      outcome: 'running',
      attempts: 2,
      finishedAt: null,
      error: null,
    });
    await runs.markInterrupted(id, 'interrupted: the scheduler stopped', at(occ(10)));
    expect(
      await runs.startJobRun({ ...base, occurrence: occ(10), now: at(occ(10)), retakeDead: true }, 'h'),
    ).toHaveProperty('settled');
  });

  it('skipped rows never overwrite; manual runs (no occurrence) are each their own row; order of recent runs', async () => {
    const runs = await jobRunsFor(await s.open());
    await runs.startJobRun({ ...base, occurrence: occ(9), now: at(occ(9)) }, 'h');
    const n = await runs.recordSkipped({ ...base, now: at(occ(11)) }, [
      { occurrence: occ(9), reason: 'x' },
      { occurrence: occ(10), reason: 'missed by 1 h' },
    ]);
    expect(n).toBe(1);
    expect(await runs.getRun('main', occ(10))).toMatchObject({
      outcome: 'skipped',
      error: 'missed by 1 h',
      attempts: 0,
    });
    const m1 = await runs.startJobRun(
      { ...base, trigger: 'manual', occurrence: null, now: at(occ(12)) },
      'h',
    );
    const m2 = await runs.startJobRun(
      { ...base, trigger: 'manual', occurrence: null, now: at(occ(13)) },
      'h',
    );
    expect((m1 as { id: number }).id).not.toBe((m2 as { id: number }).id);
    expect((await runs.lastOccurrence('main'))?.occurrence).toBe(occ(10));
    const recent = await runs.recentRuns('main', 10);
    expect(recent.map((r) => r.occurrence ?? r.startedAt)).toEqual([occ(13), occ(12), occ(10), occ(9)]);
    expect((await runs.runningRuns('main')).map((r) => r.occurrence)).toEqual([occ(9), null, null]);
    expect(await runs.runningRuns('other')).toEqual([]);
  });

  it('two takers of one occurrence at once: one row', async () => {
    const b = await s.open();
    const runs = await jobRunsFor(b);
    const all = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runs.startJobRun({ ...base, occurrence: occ(10), now: at(occ(10)) }, `h${i}`),
      ),
    );
    const ids = new Set(all.map((r) => (r as { id: number }).id));
    expect(ids.size).toBe(1);
    expect((await runs.getRun('main', occ(10)))!.attempts).toBe(6);
  });

  it('sends per edition, committed counted apart (in doubt)', async () => {
    const b = await s.open();
    const now = '2025-12-10T10:00:00.000Z';
    for (let i = 1; i <= 4; i++) {
      await exec(b, 'INSERT INTO subscribers (id, email, created_at, updated_at) VALUES ($1, $2, $3, $4)', [
        i,
        `r${i}@x.test`,
        now,
        now,
      ]);
      await exec(
        b,
        'INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        ['daily-2025-12-10', i, `r${i}@x.test`, i === 4 ? 'committed' : 'sent', `<m${i}@x>`, now, now],
      );
    }
    const runs = await jobRunsFor(b);
    expect(await runs.sendCounts()).toEqual([
      { edition: 'daily-2025-12-10', total: 4, byState: { sent: 3, committed: 1 } },
    ]);
  });
});
