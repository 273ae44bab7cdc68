import { Hono } from 'hono';
import type { Context } from '../context.ts';
import type { Editor } from '../review/accounts.ts';
import { loadEdition } from '../review/editions.ts';
import { layout, messagePage } from '../review/views.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { reportSourceFor } from './source.ts';
import { editionReportPage, REPORT_CSS, recentReportsPage } from './views.ts';

// The edition report in the review app (issue 15), for signed-in editors: the
// app's middleware sends anyone else to /login before these routes run.
//   GET /report              the last N editions sent (?last=N, default 10, at most 100)
//   GET /report/<edition>    one edition: numbers, clicks per story, the 48-hour chart
//   GET /report/report.css   the pages' styles (the CSP allows same-origin stylesheets only)

type Env = { Variables: { editor?: Editor; csrf?: string } };

/** `store`: the SQLite handle, or either store's Backend (the report reads PostgreSQL too, issue 17). */
export function reportRoutes(ctx: Context, store: DB | Backend) {
  const app = new Hono<Env>();
  const r = reportSourceFor('kind' in store ? store : { kind: 'sqlite', db: store, file: ctx.paths.store });
  const brand = ctx.config.brand.name;
  const tz = ctx.config.timezone;
  const chrome = (c: { get: (k: 'editor' | 'csrf') => unknown }, title: string) => ({
    title,
    brand,
    editor: c.get('editor') as Editor | undefined,
    csrf: c.get('csrf') as string | undefined,
  });

  app.get('/report.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', 'private, max-age=300');
    return c.body(REPORT_CSS);
  });

  app.get('/', async (c) => {
    const q = Number(c.req.query('last') ?? 10);
    const n = Number.isInteger(q) && q >= 1 ? Math.min(q, 100) : 10;
    const rows = await r.collectRecent(n, { outDir: ctx.paths.out });
    return c.html(layout(chrome(c, '報告'), recentReportsPage(rows, tz, n)));
  });

  app.get('/:edition', async (c) => {
    const id = c.req.param('edition');
    if (!(await r.editionExists(id))) {
      const sent = (await r.sentEditions()).slice(0, 10);
      return c.html(
        layout(
          chrome(c, '找不到'),
          messagePage(
            '找不到',
            sent.length
              ? `沒有版次 ${id} 的發送記錄。已發送的版次：${sent.map((e) => e.edition).join('、')}。`
              : `沒有版次 ${id} 的發送記錄；未有任何版次發送過。`,
          ),
        ),
        404,
      );
    }
    const rep = await r.collectReport(id, { outDir: ctx.paths.out });
    return c.html(
      layout(
        chrome(c, `${rep.title ?? id}｜報告`),
        editionReportPage(rep, tz, { hasGallery: Boolean(loadEdition(ctx.paths.out, id)) }),
      ),
    );
  });
  return app;
}
