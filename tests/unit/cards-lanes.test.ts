import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { laneScheduler } from '../../src/cards/lanes.ts';

// lanes.ts: each worker keeps to one format while it has cards left; the
// lanes here are fake workers that record what they ran and finish in a
// seeded order, so every interleaving the scheduler can meet is walked.

interface Task {
  id: number;
  format: string;
}

function fakeLanes(count: number, capacity: number) {
  const ran: string[][] = Array.from({ length: count }, () => []);
  const pending: { lane: number; task: Task; done: () => void; fail: (e: Error) => void }[] = [];
  const inFlight = new Array(count).fill(0);
  let maxInFlight = 0;
  const lanes = ran.map((log, lane) => ({
    capacity,
    run: (task: Task) =>
      new Promise<string>((resolve, reject) => {
        log.push(task.format);
        inFlight[lane]++;
        maxInFlight = Math.max(maxInFlight, inFlight[lane]);
        const end = () => inFlight[lane]--;
        pending.push({
          lane,
          task,
          done: () => {
            end();
            resolve(`${task.id}@${lane}`);
          },
          fail: (e) => {
            end();
            reject(e);
          },
        });
      }),
  }));
  return { lanes, ran, pending, maxInFlight: () => maxInFlight };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('laneScheduler', () => {
  it('runs every task once, never over a lane’s capacity, and a format goes to one lane until the tail', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 50 }),
        async (lanesN, capacity, sizes, picks) => {
          const f = fakeLanes(lanesN, capacity);
          const s = laneScheduler(f.lanes, (t: Task) => t.format);
          const tasks = sizes.flatMap((n, k) => Array.from({ length: n }, () => ({ format: `f${k}` })));
          const all = tasks.map((t, id) => s.run({ id, ...t }));
          let p = 0;
          await settle();
          // Finish in-flight tasks in a seeded order until none is left.
          while (f.pending.length) {
            const [one] = f.pending.splice(picks[p++ % picks.length]! % f.pending.length, 1);
            one!.done();
            await settle();
          }
          const results = await Promise.all(all);
          expect(results.map((r) => Number(r.split('@')[0]))).toEqual(tasks.map((_, i) => i));
          expect(f.ran.flat().length).toBe(tasks.length);
          expect(f.maxInFlight()).toBeLessThanOrEqual(capacity);
          // A lane's formats come in runs: it never goes back to a format it left.
          for (const log of f.ran) {
            const runs = log.filter((x, i) => i === 0 || log[i - 1] !== x);
            expect(new Set(runs).size).toBe(runs.length);
          }
          // While there are at least as many formats as lanes, a format is
          // shared only in the tail: at most lanes − 1 formats are drawn by
          // more than one lane.
          if (sizes.length >= lanesN) {
            const byFormat = new Map<string, Set<number>>();
            f.ran.forEach((log, lane) => {
              for (const x of log) byFormat.set(x, (byFormat.get(x) ?? new Set()).add(lane));
            });
            const shared = [...byFormat.values()].filter((l) => l.size > 1).length;
            expect(shared).toBeLessThanOrEqual(lanesN - 1);
          }
        },
      ),
      { seed: 2026, numRuns: 150 },
    );
  });

  it('gives two lanes two different formats from the start, the biggest first', async () => {
    const f = fakeLanes(2, 2);
    const s = laneScheduler(f.lanes, (t: Task) => t.format);
    const sizes = { og: 3, story: 5, x: 4 };
    let id = 0;
    const all = Object.entries(sizes).flatMap(([format, n]) =>
      Array.from({ length: n }, () => s.run({ id: id++, format })),
    );
    await settle();
    expect(f.ran).toEqual([
      ['story', 'story'],
      ['x', 'x'],
    ]);
    while (f.pending.length) {
      f.pending.shift()!.done();
      await settle();
    }
    await Promise.all(all);
  });

  it('passes a failed task’s error to its caller and goes on with the rest', async () => {
    const f = fakeLanes(2, 1);
    const s = laneScheduler(f.lanes, (t: Task) => t.format);
    const a = s.run({ id: 0, format: 'og' });
    const b = s.run({ id: 1, format: 'og' });
    const c = s.run({ id: 2, format: 'x' });
    await settle();
    f.pending.find((q) => q.task.id === 0)!.fail(new Error('worker died'));
    await expect(a).rejects.toThrow('worker died');
    while (f.pending.length) {
      f.pending.shift()!.done();
      await settle();
    }
    expect(await b).toMatch(/^1@/);
    expect(await c).toMatch(/^2@/);
  });

  it('cancel rejects the tasks still queued, not the ones running', async () => {
    const f = fakeLanes(1, 1);
    const s = laneScheduler(f.lanes, (t: Task) => t.format);
    const running = s.run({ id: 0, format: 'og' });
    const queued = [s.run({ id: 1, format: 'og' }), s.run({ id: 2, format: 'x' })];
    await settle();
    s.cancel(new Error('closed'));
    for (const q of queued) await expect(q).rejects.toThrow('closed');
    f.pending.shift()!.done();
    expect(await running).toBe('0@0');
    await settle();
    expect(f.ran.flat()).toEqual(['og']);
  });
});
