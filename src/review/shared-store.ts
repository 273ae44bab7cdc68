import type { Context as HonoContext } from 'hono';
import type { Context } from '../context.ts';
import { BroadsheetError } from '../errors/index.ts';
import { within } from '../ops/health.ts';
import { type Backend, displayStore } from '../store/backend.ts';
import { layout, messagePage } from './views.ts';

// What `serve` does on a PostgreSQL store for routes whose repositories are
// not on the shared store yet (issue 17): readers' links and the report read
// subscribers, the send ledger and mail events through SQLite-only code. They
// answer 503 with a catalog code — in a header, the body and one log line —
// so a load balancer or an operator sees exactly what is missing; never a 500.

export function notOnSharedStore(ctx: Context, backend: Backend, brand: string) {
  return (c: HonoContext) => {
    const err = new BroadsheetError('WEB_ROUTE_NOT_ON_SHARED_STORE', {
      route: c.req.path,
      store: displayStore(backend),
    });
    ctx.logger.warn({ code: err.code, path: c.req.path, method: c.req.method }, err.message);
    c.header('X-Broadsheet-Error', err.code);
    c.header('Retry-After', '3600');
    return c.html(
      layout(
        { title: '暫停服務', brand, public: true },
        messagePage('暫停服務', `${err.message}（${err.code}）`),
      ),
      503,
    );
  };
}

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
