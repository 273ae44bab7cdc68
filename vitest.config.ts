import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './tests/helpers/sequencer.ts';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and child processes. Three forks on
    // two cores: many files mostly wait (PostgreSQL, child processes, cron
    // ticks, lease expiries), and a third fork fills that time — a full run
    // took 567 s with 3 against 618 s with 2, on this machine under load.
    pool: 'forks',
    maxWorkers: 3,
    // A per-run folder for out/ trees built once and shared (tests/helpers/prebuilt.ts).
    globalSetup: ['tests/helpers/global-setup.ts'],
    // Without timings from earlier runs (a clean clone), the known-slow files start first.
    sequence: { sequencer: SlowFirstSequencer },
  },
});
