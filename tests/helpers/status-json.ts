// `status --json` printed by two runs, made comparable. What differs between
// two runs a moment apart is the clock, not the config: `generatedAt`, and a
// job's next occurrence when a cron time falls between the runs (a CI run at
// 21:29:58 and one at 21:30:01 see 21:30 and 22:00). Each `next` is checked
// for shape and kept only as "has one" or null, so a job that lost or gained
// its schedule still differs.
import { expect } from 'vitest';

export function statusOf(stdout: string): Record<string, unknown> {
  const s = JSON.parse(stdout);
  expect(Date.parse(s.generatedAt)).not.toBeNaN();
  delete s.generatedAt;
  for (const job of (s.jobs ?? []) as { next: { at: string; local: string } | null | string }[]) {
    if (job.next === null) continue;
    const { at, local } = job.next as { at: string; local: string };
    expect(Date.parse(at), `next.at ${at}`).not.toBeNaN();
    expect(Date.parse(local), `next.local ${local}`).toBe(Date.parse(at));
    job.next = 'scheduled';
  }
  return s;
}
