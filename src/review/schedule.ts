import type { Hono, Context as HonoContext } from 'hono';
import { html } from 'hono/html';
import type { Context } from '../context.ts';
import type { ReviewStore } from '../store/review.ts';
import { localToInstant } from '../util/zoned.ts';
import type { Editor } from './accounts.ts';
import type { SocialName } from './config.ts';
import { localPath } from './signin.ts';
import { freeSlotAmong, isSocial, takenFrom } from './social.ts';
import { messagePage } from './views.ts';

// POST /schedule/:id — when one social post (a queue row) goes:
//   at    the editor's time (datetime-local, in the config's timezone)
//   slot  the platform's next free posting time (review.social.times)
//   now   at the next run of the publish job
//   cancel  out of the queue (approve again to bring it back)
// Setting a time decides that a post goes out, so it is for admins, like
// publishing; any editor may cancel. Only a queued row changes: once the
// runner has claimed it (sending) it is too late, and the page says so.

type Env = { Variables: { editor?: Editor; csrf?: string } };
type Page = (
  c: HonoContext<Env>,
  title: string,
  body: ReturnType<typeof messagePage>,
  status?: number,
) => Response | Promise<Response>;

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

export function scheduleRoutes(app: Hono<Env>, o: { ctx: Context; repo: ReviewStore; page: Page }) {
  const { ctx, repo, page } = o;
  const tz = ctx.config.timezone;
  app.post('/schedule/:id', async (c) => {
    const body = await c.req.parseBody();
    const id = Number(c.req.param('id'));
    const row = Number.isInteger(id) ? await repo.queueRow(id) : undefined;
    if (!row || !isSocial(row.publisher))
      return page(c, '找不到', messagePage('找不到', '沒有這則排期。'), 404);
    const back = localPath(body.back, `/e/${row.edition}#p-${row.itemId}-${row.platform}`);
    const editor = c.get('editor')!;
    const action = String(body.action ?? '');
    const refuse = (title: string, text: string, status: number) =>
      page(c, title, messagePage(title, text, html`<p><a href="${back}">返回</a></p>`), status);
    if (action !== 'cancel' && editor.role !== 'admin')
      return refuse('沒有權限', '只有管理員（admin）可以排期發佈；編輯可以取消。', 403);
    let due: string | null | undefined;
    if (action === 'cancel') {
      if (!(await repo.cancelRow(row.id)))
        return refuse('太遲了', '這則帖文已經發佈或正在發佈，不能取消。', 409);
    } else {
      if (action === 'now') due = ctx.clock.now().toISOString();
      else if (action === 'slot') {
        const now = ctx.clock.now();
        const pub = row.publisher as SocialName;
        const slot = freeSlotAmong(ctx, await repo.takenSlots(pub, takenFrom(now)), pub, now);
        if (!slot) return refuse('沒有空檔', `未來 ${ctx.config.review.social.slotDays} 天都沒有空檔。`, 422);
        due = slot.toISOString();
      } else if (action === 'at') {
        const m = LOCAL.exec(String(body.at ?? ''));
        if (!m) return refuse('時間無效', '請選擇日期和時間。', 422);
        const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
        const ms = localToInstant({ year: y, month: mo, day: d, hour: h, minute: mi, second: 0 }, tz).ms;
        if (ms < ctx.clock.now().getTime() - 60_000) return refuse('時間已過', '請選擇將來的時間。', 422);
        due = new Date(ms).toISOString();
      } else return refuse('未知操作', '請用頁面上的按鈕。', 400);
      if (!(await repo.schedule(row.id, due)))
        return refuse('太遲了', '這則帖文已經發佈、正在發佈或已取消。', 409);
    }
    ctx.logger.info(
      { editor: editor.name, action, id: row.id, publisher: row.publisher, dueAt: due },
      'publish schedule changed',
    );
    return c.redirect(back, 303);
  });
}
