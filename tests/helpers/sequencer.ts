import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that took longest in a full run (seconds of vitest time on 2
 * cores, issue 17's session, under load), longest first. Small files that run long:
 * vitest orders files it has no timings for by size, which put these last,
 * where one worker ran them alone while the other had nothing left to do.
 */
const SLOW_FIRST = [
  'tests/integration/fanout-acceptance.test.ts', // 85
  'tests/integration/cli-conventions.test.ts', // 54
  'tests/property/cards-typeset.property.test.ts', // 53
  'tests/integration/run-main.test.ts', // 48
  'tests/integration/subscribers-send.test.ts', // 38
  'tests/integration/scheduler.test.ts', // 32
  'tests/e2e/review-real-build.test.ts', // 27
  'tests/integration/smtp-faults.test.ts', // 27
  'tests/integration/publish-graph.test.ts', // 25
  'tests/integration/fanout-worker.test.ts', // 25
  'tests/integration/topics-send.test.ts', // 24
  'tests/integration/preferences-topics.test.ts', // 17
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
