import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './tests/helpers/sequencer.ts';

/** Files that change process-wide state in the test process itself: run in a module graph of their own. */
const ALONE = [
  'tests/integration/cards-glyph-store.test.ts', // resets the glyph cache and store
  'tests/integration/cards-jit.test.ts', // NODE_OPTIONS, V8 flags
  'tests/integration/cards-memory-sheets.test.ts', // reads this process's memory
  'tests/integration/malloc-tuning.test.ts', // gc(), memory readings
  'tests/integration/publish-schedule.test.ts', // process.env
];

export default defineConfig({
  test: {
    // Three projects, by what a file may share with the files before it in
    // the same fork. Without per-file isolation a fork keeps one module graph
    // (each file re-imported satori, MJML and the rest: ~2 s a file). 'unit':
    // none isolated (63 s of the unit files' 86 s went on imports). 'rest':
    // the files that start real servers or child processes, not isolated
    // either since stop 33 (README § Development has the measured runs).
    // 'alone': the few that change process-wide state in this process
    // (process.env, the card glyph cache and store, V8 flags, GC and memory
    // readings), each in a fresh module graph.
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], isolate: false } },
      {
        extends: true,
        test: {
          name: 'rest',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/unit/**', ...ALONE],
          isolate: false,
          // dist/ brought up to date and a per-run folder for shared out/ trees
          // (tests/helpers/prebuilt.ts): only these files spawn the CLI or use
          // them. In the root config it ran once per project, twice a run.
          globalSetup: ['tests/helpers/global-setup.ts'],
        },
      },
      // No globalSetup: none of these seeds out/; one spawns the CLI, which
      // runs through tsx when dist/ is stale (bin/broadsheet.js).
      { extends: true, test: { name: 'alone', include: ALONE } },
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and child processes. Three forks on
    // two cores: many files mostly wait (PostgreSQL, child processes, cron
    // ticks, lease expiries), and a third fork fills that time — a full run
    // took 567 s with 3 against 618 s with 2, on this machine under load.
    pool: 'forks',
    maxWorkers: 3,
    // Without timings from earlier runs (a clean clone), the known-slow files start first.
    sequence: { sequencer: SlowFirstSequencer },
  },
});
