import type { Hono, Context as HonoContext } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Context } from '../context.ts';
import { loadSendInput } from '../delivery/edition.ts';
import { sendTest, TEST_MARKERS, testAddress } from '../delivery/test-send.ts';
import { isBroadsheetError } from '../errors/index.ts';
import type { Editor } from './accounts.ts';
import { cookieOptions } from './auth.ts';
import { loadEdition } from './editions.ts';
import { messagePage } from './views.ts';

// "Send me a test" on an edition's page: the edition's digest to one address,
// through the configured transport, outside the ledger (src/delivery/test-send.ts).
// Signed-in editors only and CSRF-checked (the app's middleware does both
// before this runs). Editor accounts carry no email address, so the editor
// types it; the last one used is kept in a cookie and filled in next time.
// Rate limit: TEST_SEND_LIMIT per editor per TEST_SEND_WINDOW_MS, counted per
// attempt that reaches the transport (a failing server cannot be hammered
// either); in memory, per server process — a restart forgets it, which only
// ever allows a few more test messages.

type H = HtmlEscapedString | Promise<HtmlEscapedString>;
type Env = { Variables: { editor?: Editor; csrf?: string } };
type Page = (c: HonoContext<Env>, title: string, body: H, status?: number) => Response | Promise<Response>;

export const TEST_SEND_LIMIT = 5;
export const TEST_SEND_WINDOW_MS = 10 * 60_000;
const TO_COOKIE = 'bs_test_to';

/** A sliding window of attempt times per key. */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Take one slot; the seconds to wait when none is free. */
  take(key: string): { ok: true } | { ok: false; retryAfterS: number } {
    const t = this.now();
    const recent = (this.hits.get(key) ?? []).filter((h) => t - h < this.windowMs);
    if (recent.length >= this.limit) {
      this.hits.set(key, recent);
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((recent[0]! + this.windowMs - t) / 1000)) };
    }
    recent.push(t);
    this.hits.set(key, recent);
    return { ok: true };
  }
}

export function testSendRoutes(app: Hono<Env>, o: { ctx: Context; page: Page }) {
  const { ctx, page } = o;
  const limiter = new RateLimiter(TEST_SEND_LIMIT, TEST_SEND_WINDOW_MS, () => ctx.clock.now().getTime());

  app.post('/e/:edition/test-send', async (c) => {
    const e = loadEdition(ctx.paths.out, c.req.param('edition'));
    if (!e?.manifest.digest)
      return page(c, '找不到', messagePage('找不到', '這個版次沒有電郵版，不能寄測試信。'), 404);
    const editor = c.get('editor')!;
    const back = `/e/${e.id}`;
    const body = await c.req.parseBody();
    let to: string;
    try {
      to = testAddress(body.to);
    } catch {
      return page(
        c,
        '地址無效',
        messagePage('地址無效', '請填寫一個電郵地址，例如 editor@example.com。', linkBack(back)),
        422,
      );
    }
    const slot = limiter.take(editor.name.toLowerCase());
    if (!slot.ok) {
      ctx.logger.warn({ editor: editor.name, edition: e.id }, 'test send refused: over the rate limit');
      c.header('Retry-After', String(slot.retryAfterS));
      return page(
        c,
        '太頻密',
        messagePage(
          '太頻密',
          `每位編輯每 ${TEST_SEND_WINDOW_MS / 60_000} 分鐘最多寄 ${TEST_SEND_LIMIT} 封測試信。請 ${Math.ceil(slot.retryAfterS / 60)} 分鐘後再試。`,
          linkBack(back),
        ),
        429,
      );
    }
    try {
      const input = await loadSendInput(ctx, e.id);
      const r = await sendTest(ctx, input, { to, name: editor.name });
      ctx.logger.info(
        { editor: editor.name, edition: e.id, to, transport: r.transport, messageId: r.messageId },
        'test send from the review app',
      );
    } catch (err) {
      if (!isBroadsheetError(err)) throw err;
      ctx.logger.warn({ editor: editor.name, edition: e.id, to, code: err.code }, 'test send failed');
      return page(
        c,
        '未能寄出',
        messagePage('測試信未能寄出', `${err.code}：${err.message}`, linkBack(back)),
        err.exitCode === 2 ? 500 : 502,
      );
    }
    setCookie(c, TO_COOKIE, to, cookieOptions(c, ctx.config.publicUrl, 365 * 86_400));
    return c.redirect(`${back}?test=sent&to=${encodeURIComponent(to)}#test-send`, 303);
  });
}

/** The form on the edition page, with the notice after a test went out. */
export function testSendForm(c: HonoContext<Env>, editionId: string): H {
  const q = c.req.query();
  const last = getCookie(c, TO_COOKIE);
  const sent = q.test === 'sent' && q.to ? q.to : undefined;
  return html`<form method="post" action="/e/${editionId}/test-send" class="filters" id="test-send">
  <input type="hidden" name="_csrf" value="${c.get('csrf') ?? ''}">
  <label for="test-to">寄測試信給我</label>
  <input id="test-to" name="to" type="email" autocomplete="email" required maxlength="254" placeholder="你的電郵地址" value="${last ?? ''}">
  <button type="submit">寄出測試信</button>
  <span class="meta">主旨前加「${TEST_MARKERS['zh-Hant'].trim()}」，不計入發送記錄；每 ${TEST_SEND_WINDOW_MS / 60_000} 分鐘最多 ${TEST_SEND_LIMIT} 封。</span>
</form>
${sent ? html`<p class="notice" role="status">測試信已寄往 ${sent}。</p>` : ''}`;
}

const linkBack = (href: string) => html`<p><a href="${href}">返回</a></p>`;
