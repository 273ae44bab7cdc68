import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { QueueRow } from '../store/review.ts';
import { localParts } from '../util/zoned.ts';
import { socialPlatforms } from './publishers/index.ts';
import { isSocial } from './social.ts';
import { when } from './time-view.ts';

// Under each approved post in the gallery: one line per social platform it is
// queued for — when it goes (or that it waits for a time), a form to set the
// time, take the next free slot, send at the next run, or cancel; once out,
// a link to the post; when the platform refused it, the platform's words.

type H = HtmlEscapedString | Promise<HtmlEscapedString>;

const pad = (n: number) => String(n).padStart(2, '0');

/** The value of a datetime-local input for `iso` in the newsroom's zone. */
export function localInput(iso: string, tz: string): string {
  const p = localParts(Date.parse(iso), tz);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

const label = (publisher: string) =>
  isSocial(publisher) ? (socialPlatforms[publisher]?.label ?? publisher) : publisher;

function row(r: QueueRow, csrf: string, back: string, tz: string, canSchedule: boolean): H {
  const name = label(r.publisher);
  if (r.state === 'published')
    return html`<li class="sched published" data-publisher="${r.publisher}">${name}：已發佈 ${r.publishedAt ? when(r.publishedAt, tz) : ''}
      ${r.postUrl ? html`<a class="post-link" href="${r.postUrl}" rel="noopener noreferrer" target="_blank">查看帖文</a>` : ''}</li>`;
  if (r.state === 'sending')
    return html`<li class="sched sending" data-publisher="${r.publisher}">${name}：發佈中…</li>`;
  if (r.state === 'failed')
    return html`<li class="sched failed" data-publisher="${r.publisher}">${name}：發佈失敗 — <q class="platform-error">${r.lastError ?? ''}</q>（改好後再批准一次）</li>`;
  const id = `sched-${r.id}`;
  return html`<li class="sched queued" data-publisher="${r.publisher}">
    <form method="post" action="/schedule/${r.id}" class="schedule">
      <input type="hidden" name="_csrf" value="${csrf}">
      <input type="hidden" name="back" value="${back}">
      <span>${name}：${r.dueAt ? html`排期 ${when(r.dueAt, tz)}` : '未排期'}</span>
      ${r.lastError ? html`<small class="platform-error">上次：${r.lastError}</small>` : ''}
      ${
        canSchedule
          ? html`<label class="sr" for="${id}">${name} 發佈時間</label>
      <input type="datetime-local" id="${id}" name="at" value="${r.dueAt ? localInput(r.dueAt, tz) : ''}">
      <button type="submit" name="action" value="at">${r.dueAt ? '改期' : '排期'}</button>
      <button type="submit" name="action" value="slot">下一個空檔</button>
      <button type="submit" name="action" value="now">下次執行時發佈</button>`
          : ''
      }
      <button type="submit" name="action" value="cancel" class="danger">取消</button>
    </form></li>`;
}

/** The social rows of one post, or nothing when it has none. */
export function scheduleBlock(
  queue: QueueRow[],
  o: { csrf: string; back: string; tz: string; canSchedule: boolean },
): H | '' {
  const rows = queue.filter((q) => isSocial(q.publisher));
  if (!rows.length) return '';
  return html`<ul class="schedule-list" aria-label="社交平台發佈">${rows.map((r) => row(r, o.csrf, o.back, o.tz, o.canSchedule))}</ul>`;
}
