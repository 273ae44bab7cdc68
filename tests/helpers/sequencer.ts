import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that took longest in a full run (seconds of vitest time on 2
 * cores, 3 forks, under load), longest first. Small files that run long:
 * vitest orders files it has no timings for by size, which put these last,
 * where one worker ran them alone while the other had nothing left to do.
 * fanout-acceptance ran 97 s until its script stopped sitting out a 60 s
 * timer after its result (tests/helpers/child.ts `wait`): ~35 s now.
 */
const SLOW_FIRST = [
  'tests/integration/cli-conventions.test.ts', // 78
  'tests/property/cards-typeset.property.test.ts', // 66
  'tests/integration/build-beside.test.ts', // 49
  'tests/integration/storage-errors.test.ts', // 48
  'tests/e2e/email-screenshots.test.ts', // 47
  'tests/integration/run-main.test.ts', // 47
  'tests/integration/fanout-acceptance.test.ts', // 97 before, ~35 after
  'tests/integration/publish-schedule.test.ts', // 37
  'tests/integration/scheduler.test.ts', // 35
  'tests/e2e/publish-social.test.ts', // 34
  'tests/integration/cards-build.test.ts', // 33
  'tests/integration/subscribers-send.test.ts', // 32
  'tests/integration/rebuild-digest.test.ts', // 29
  'tests/integration/review-sessions.test.ts', // 25
  'tests/integration/subscribers-pg.test.ts', // 25
  'tests/e2e/review-real-build.test.ts', // 24
  'tests/integration/fanout-topics.test.ts', // 23
];

/**
 * vitest's order (its own timings from earlier runs when it has them for
 * every file), except that without them — a clean clone, CI — the files
 * known to be slow start first, so the run does not end on one of them.
 */
export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const rel = (f: TestSpecification) => relative(root, f.moduleId).split('\\').join('/');
    if (sorted.every((f) => this.ctx.cache.getFileTestResults(`${f.project.name}:${rel(f)}`))) return sorted;
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.indexOf(rel(f));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
