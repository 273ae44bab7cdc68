import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './tests/helpers/sequencer.ts';

export default defineConfig({
  test: {
    // Two projects: the unit files run without per-file isolation (one module
    // graph per fork: each file re-imported satori, MJML and the rest — 63 s
    // of the unit files' 86 s of test time went on imports); every other file
    // starts real servers or child processes and keeps a fresh module graph.
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], isolate: false } },
      {
        extends: true,
        test: {
          name: 'rest',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/unit/**'],
          // dist/ brought up to date and a per-run folder for shared out/ trees
          // (tests/helpers/prebuilt.ts): only these files spawn the CLI or use
          // them. In the root config it ran once per project, twice a run.
          globalSetup: ['tests/helpers/global-setup.ts'],
        },
      },
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
