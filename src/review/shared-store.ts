import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { within } from '../ops/health.ts';
import { type Backend, displayStore } from '../store/backend.ts';

/**
 * /healthz's check: one round trip to the store, answered within
 * ops.healthTimeoutMs (a hung database makes it a 503, never a hung request).
 * Undefined when healthy, else the catalog code (logged once per failure).
 */
export async function storeHealth(ctx: Context, backend: Backend): Promise<string | undefined> {
  try {
    if (backend.kind === 'sqlite') backend.db.prepare('SELECT 1').get();
    else {
      const ms = ctx.config.ops.healthTimeoutMs;
      const late = await within(
        backend.pool.query('SELECT 1').then(() => false),
        ms,
        () => true,
      );
      if (late) throw new Error(`no answer within ${ms} ms`);
    }
    return undefined;
  } catch (e) {
    const err = new BroadsheetError('WEB_STORE_UNHEALTHY', {
      store: displayStore(backend),
      detail: String((e as Error).message ?? e).slice(0, 200),
    });
    ctx.logger.error({ code: err.code }, err.message);
    return err.code;
  }
}
