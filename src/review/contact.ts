import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { CARD_FORMATS, type CardFormat } from '../cards/config.ts';
import { contactSheetPath } from '../cards/contact.ts';
import type { Context } from '../context.ts';
import { loadEdition } from './editions.ts';

// The edition's contact sheets (src/cards/contact.ts), one PNG per format, for editors to download.
// biome-ignore lint/suspicious/noExplicitAny: the app's Env type lives in app.ts
export function contactSheetRoutes(app: Hono<any>, ctx: Context): void {
  app.get('/e/:edition/contact/:file', async (c) => {
    const format = c.req.param('file').replace(/\.png$/, '') as CardFormat;
    const e = loadEdition(ctx.paths.out, c.req.param('edition'));
    const file = e && CARD_FORMATS.includes(format) ? join(e.dir, contactSheetPath(format)) : undefined;
    if (!file || !existsSync(file)) return c.text('Not found', 404);
    c.header('Content-Type', 'image/png');
    c.header('Content-Disposition', `attachment; filename="${e!.id}-${format}.png"`);
    c.header('Cache-Control', 'private, max-age=60');
    return c.body(new Uint8Array(await readFile(file)));
  });
}
