import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './tests/helpers/sequencer.ts';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and child processes; two cores here.
    pool: 'forks',
    maxWorkers: 2,
    // A per-run folder for out/ trees built once and shared (tests/helpers/prebuilt.ts).
    globalSetup: ['tests/helpers/global-setup.ts'],
    // Without timings from earlier runs (a clean clone), the known-slow files start first.
    sequence: { sequencer: SlowFirstSequencer },
  },
});
