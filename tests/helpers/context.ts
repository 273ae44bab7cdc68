import { configSchema } from '../../src/config/schema.ts';
import { type Clock, type Context, type Paths, resolvePaths, systemClock } from '../../src/context.ts';
import { silentLogger } from '../../src/logger.ts';

/**
 * A stage context for tests: config parsed from `config` (defaults for the
 * rest), paths resolved against `root` the way the CLI resolves them against
 * its working folder, a silent logger and, when `now` is given, a fixed clock.
 */
export function testContext(
  o: {
    root?: string;
    config?: Record<string, unknown>;
    secrets?: Context['secrets'];
    now?: Date;
    paths?: Partial<Paths>;
  } = {},
): Context {
  const config = configSchema.parse(o.config ?? {});
  const clock: Clock = o.now ? { now: () => o.now! } : systemClock;
  return {
    config,
    secrets: o.secrets ?? {},
    logger: silentLogger(),
    clock,
    paths: { ...resolvePaths(config, {}, o.root), ...o.paths },
  };
}
