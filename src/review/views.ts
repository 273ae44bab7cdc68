import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Theme } from '../cards/layout-api.ts';
import type { QueueRow, ReviewEvent } from '../store/review.ts';
import type { Editor } from './accounts.ts';
import {
  cardForPost,
  type EditionRef,
  type ItemView,
  POST_STATUSES,
  type PostStatus,
  type PostView,
} from './editions.ts';
import { scheduleBlock } from './schedule-views.ts';
import { when } from './time-view.ts';

// Server-rendered pages. Every interpolation in html`` is HTML-escaped (hono
// escapes & < > " '), so content, captions and editor names can never become
// markup; nothing here uses raw().

type H = HtmlEscapedString | Promise<HtmlEscapedString>;

export const STATUS_LABEL: Record<PostStatus, string> = {
  pending: '待審',
  approved: '已批准',
  rejected: '已否決',
  published: '已發佈',
};
export const PLATFORM_LABEL: Record<string, string> = {
  x: 'X',
  threads: 'Threads',
  facebook: 'Facebook',
  instagram: 'Instagram',
  linkedin: 'LinkedIn',
  weibo: '微博',
};
const ACTION_LABEL: Record<string, string> = {
  approve: '批准',
  reject: '否決',
  reset: '重設',
  caption: '修改文案',
};
const KIND_LABEL: Record<string, string> = { article: '報道', quote: '引述', statset: '數讀', stat: '數字' };
const FORMAT_LABEL: Record<string, string> = {
  og: '連結預覽',
  x: 'X',
  square: '方形',
  portrait: '直幅',
  story: '限時動態',
  wechat: '微信',
};

export interface Chrome {
  title: string;
  editor?: Editor;
  csrf?: string;
  brand: string;
  /**
   * Pages for readers (/u/…, /archive/…): the paper's name, not the editors' desk,
   * and only relative URLs, so they also work behind a proxy that serves the app
   * under publicUrl's path (https://news.example.com/broadsheet/u/…).
   */
  public?: boolean;
}

export function layout(c: Chrome, body: H): H {
  return html`<!doctype html>
<html lang="zh-Hant-HK">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${c.title}｜${c.brand}${c.public ? '' : ' 編輯台'}</title>
${
  c.public
    ? html`<link rel="stylesheet" href="../static/app.css">`
    : html`<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>`
}
</head>
<body>
<a class="skip" href="#main">跳到主要內容</a>
<header class="top">
  ${c.public ? html`<span class="brand">${c.brand}</span>` : html`<a class="brand" href="/">${c.brand}<span> 編輯台</span></a>`}
  ${
    c.editor
      ? html`<nav aria-label="主選單"><a href="/">版次</a><a href="/queue">發佈佇列</a><a href="/report">報告</a></nav>
  <form method="post" action="/logout" class="signin"><span>${c.editor.name}</span><input type="hidden" name="_csrf" value="${c.csrf ?? ''}"><button type="submit" class="link">登出</button></form>`
      : ''
  }
</header>
<main id="main" tabindex="-1">
${
  c.editor?.bootstrap
    ? html`<p class="bootstrap-note" role="status">你以共用密碼 BROADSHEET_EDITOR_PASSWORD 登入，暫作管理員。請以 <code>broadsheet editors add 名字 --role admin</code> 建立個人帳戶；建立後共用密碼即停用。</p>`
    : ''
}
${body}
</main>
</body>
</html>`;
}

export function loginPage(p: {
  csrf: string;
  error?: string;
  next: string;
  disabled: boolean;
  name?: string;
}): H {
  return html`<section class="login">
  <h1>編輯登入</h1>
  ${p.error ? html`<p class="error" role="alert">${p.error}</p>` : ''}
  ${
    p.disabled
      ? html`<p class="error" role="alert">尚未建立編輯帳戶（<code>broadsheet editors add</code>），也未設定 BROADSHEET_EDITOR_PASSWORD，編輯台暫不開放登入。</p>`
      : html`<form method="post" action="/login">
    <input type="hidden" name="_csrf" value="${p.csrf}">
    <input type="hidden" name="next" value="${p.next}">
    <label for="name">你的名字</label>
    <input id="name" name="name" type="text" autocomplete="name" required maxlength="40" value="${p.name ?? ''}" autofocus>
    <label for="password">密碼</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit" class="primary">登入</button>
  </form>`
  }
</section>`;
}

export function editionsPage(editions: { e: EditionRef; counts: Record<PostStatus, number> }[]): H {
  if (!editions.length)
    return html`<h1>版次</h1><p class="empty">out/ 內未有已建置的版次。請先執行 <code>broadsheet build</code>。</p>`;
  return html`<h1>版次</h1>
<ul class="editions">
${editions.map(
  ({ e, counts }) => html`<li>
  <a href="/e/${e.id}"><strong>${e.manifest.edition.title}</strong> <span class="date">${e.manifest.edition.date}</span></a>
  <span class="meta">${e.id} · ${e.manifest.edition.articles.length} 篇報道 · ${e.manifest.edition.stats.length} 組數讀 · ${e.manifest.cards.length} 張圖卡</span>
  <span class="counts">${POST_STATUSES.map((s) => html`<span class="badge s-${s}">${STATUS_LABEL[s]} ${counts[s]}</span> `)}</span>
  ${e.manifest.digest ? html`<a class="archive" href="/archive/${e.id}">電郵版</a>` : ''}
</li>`,
)}
</ul>`;
}

export type GalleryPost = PostView & { length: number; history?: ReviewEvent[] };
export type GalleryItem = Omit<ItemView, 'posts'> & { posts: GalleryPost[] };

export interface GalleryFilter {
  status?: PostStatus;
  platform?: string;
}

function postForm(e: EditionRef, it: GalleryItem, p: GalleryPost, csrf: string, back: string, tz: string): H {
  const id = `p-${it.id}-${p.platform}`;
  const locked = p.status === 'published' || p.queue.some((q) => q.state === 'sending');
  // Some publishers have it, another failed: the text is fixed, only a retry is possible.
  const partly = !locked && p.queue.some((q) => q.state === 'published');
  const card = cardForPost(it, p);
  const failed = p.queue.find((q) => q.state === 'failed');
  const queued = p.queue.some((q) => q.state === 'queued');
  return html`<section class="post s-${p.status}" id="${id}" aria-label="${PLATFORM_LABEL[p.platform] ?? p.platform}｜${it.title}">
  <header>
    <h4 id="${id}-h">${PLATFORM_LABEL[p.platform] ?? p.platform}</h4>
    <span class="badge s-${p.status}">${STATUS_LABEL[p.status]}</span>
    ${queued ? html`<span class="badge q">排隊發佈中</span>` : ''}
    ${failed ? html`<span class="badge s-rejected" title="${failed.lastError ?? ''}">發佈失敗</span>` : ''}
    ${p.edited ? html`<span class="badge edited">已修改</span>` : ''}
    ${p.decision ? html`<span class="who">${p.decision.editor} · ${when(p.decision.updatedAt, tz)}</span>` : ''}
  </header>
  <form method="post" action="/e/${e.id}/p/${it.id}/${p.platform}">
    <input type="hidden" name="_csrf" value="${csrf}">
    <input type="hidden" name="back" value="${back}#${id}">
    <label class="sr" for="${id}-t">${PLATFORM_LABEL[p.platform] ?? p.platform} 文案</label>
    <textarea id="${id}-t" name="caption" rows="8" data-platform="${p.platform}" data-limit="${p.limit}" ${locked || partly ? 'readonly' : ''}>${p.caption}</textarea>
    <div class="row">
      <output class="count${p.length > p.limit ? ' over' : ''}" for="${id}-t" aria-live="polite"><span>${p.length}</span> / ${p.limit}${p.platform === 'x' ? '（X 加權字數）' : ''}</output>
      <label class="fmt">圖卡
        <select name="format" ${locked || partly ? 'disabled' : ''}>
          ${it.cards.map((c) => html`<option value="${c.format}" ${c.format === card?.format ? 'selected' : ''}>${FORMAT_LABEL[c.format] ?? c.format}</option>`)}
        </select>
      </label>
    </div>
    ${
      locked
        ? html`<p class="note">已發佈，不能再修改。</p>`
        : partly && failed
          ? html`<p class="note">部分平台已發佈；文案不能再改，可重試失敗的發佈。</p>
    <div class="actions"><button type="submit" name="action" value="approve" class="primary">重試發佈</button></div>`
          : partly
            ? html`<p class="note">部分平台已發佈，其餘按排期發佈；文案不能再改。</p>`
            : html`<div class="actions">
      <button type="submit" name="action" value="approve" class="primary">批准</button>
      <button type="submit" name="action" value="reject" class="danger">否決</button>
      <button type="submit" name="action" value="save">儲存文案</button>
      ${p.status !== 'pending' || p.edited ? html`<button type="submit" name="action" value="reset" class="link">重設</button>` : ''}
    </div>`
    }
  </form>
  ${scheduleBlock(p.queue, { csrf, back: `${back}#${id}`, tz, canSchedule: true })}
  ${
    p.history?.length
      ? html`<details class="history"><summary>記錄（${p.history.length}）</summary><ol>${p.history.map(
          (h) => html`<li>${when(h.at, tz)} ${h.editor} ${ACTION_LABEL[h.action] ?? h.action}</li>`,
        )}</ol></details>`
      : ''
  }
</section>`;
}

export function galleryPage(
  e: EditionRef,
  list: GalleryItem[],
  f: GalleryFilter,
  platforms: string[],
  csrf: string,
  back: string,
  approvedCount: number,
  tz: string,
  testSend?: H,
  /** The theme's platform safe zones (templates/cards/theme.json), for the gallery's overlay. */
  safeZones: Theme['safeZones'] = {},
): H {
  const groups: { key: 'story' | 'stats'; label: string }[] = [
    { key: 'story', label: '報道' },
    { key: 'stats', label: '數讀' },
  ];
  return html`<nav class="crumbs" aria-label="位置"><a href="/">版次</a> › ${e.id}</nav>
<h1>${e.manifest.edition.title} <span class="date">${e.manifest.edition.date}</span></h1>
<p class="meta"><a href="/report/${e.id}">投遞及點擊報告</a></p>
${testSend ?? ''}
<form class="filters" method="get" action="/e/${e.id}">
  <label>狀態
    <select name="status"><option value="">全部</option>${POST_STATUSES.map((s) => html`<option value="${s}" ${f.status === s ? 'selected' : ''}>${STATUS_LABEL[s]}</option>`)}</select>
  </label>
  <label>平台
    <select name="platform"><option value="">全部</option>${platforms.map((p) => html`<option value="${p}" ${f.platform === p ? 'selected' : ''}>${PLATFORM_LABEL[p] ?? p}</option>`)}</select>
  </label>
  <button type="submit">篩選</button>
  <span class="spacer"></span>
  ${approvedCount ? html`<a class="button" href="/e/${e.id}/bundle.zip" download>下載已批准帖文（${approvedCount} 則，zip）</a>` : html`<span class="meta">未有已批准的帖文</span>`}
</form>
${cardTools(e, safeZones)}
${list.length ? '' : html`<p class="empty">沒有符合篩選的帖文。</p>`}
${groups.map(({ key, label }) => {
  const its = list.filter((i) => i.group === key);
  if (!its.length) return '';
  return html`<h2>${label}</h2>
${its.map(
  (it) => html`<article class="item" id="item-${it.id}">
  <header>
    <h3>${it.title}</h3>
    ${it.subtitle ? html`<p class="sub">${it.subtitle}</p>` : ''}
    <p class="meta">${KIND_LABEL[it.kind] ?? it.kind} · ${it.id}${it.url ? html` · <a href="${it.url}" rel="noreferrer noopener" target="_blank">原文</a>` : ''}</p>
  </header>
  <ul class="thumbs">
    ${it.cards.map(
      (
        c,
      ) => html`<li class="f-${c.format}"><a href="/e/${e.id}/card/${c.itemId}/${c.format}.png" target="_blank" title="${FORMAT_LABEL[c.format] ?? c.format} ${c.width}×${c.height}（按此看原圖）">
      <span class="frame"><img src="/e/${e.id}/thumb/${c.itemId}/${c.format}.webp" alt="${it.title}｜${FORMAT_LABEL[c.format] ?? c.format}圖卡" width="${c.width}" height="${c.height}" loading="lazy">${zonesOverlay(c, safeZones)}</span>
      <span>${FORMAT_LABEL[c.format] ?? c.format} <small>${c.width}×${c.height}</small></span></a></li>`,
    )}
  </ul>
  <div class="posts">${it.posts.map((p) => postForm(e, it, p, csrf, back, tz))}</div>
</article>`,
)}`;
})}`;
}

/**
 * Card checks for the edition (issue 12): toggles that shade what a platform
 * hides — WeChat's shared thumbnail shows only the centre square, stories lose
 * their top and bottom bands to the app's UI — and the contact sheets, one PNG
 * per format. The toggles are checkboxes before the items (CSS only, no script).
 */
function cardTools(e: EditionRef, zones: Theme['safeZones']): H {
  const formats = [...new Set(e.manifest.cards.map((c) => c.format))];
  if (!formats.length) return html``;
  const zoned = formats.filter((f) => hasZone(zones, f));
  return html`<input type="checkbox" id="ov-wechat" class="ov-toggle"><input type="checkbox" id="ov-story" class="ov-toggle">
<p class="overlays">
  ${formats.includes('wechat') ? html`<label for="ov-wechat">顯示微信分享裁切</label>` : ''}
  ${zoned.length ? html`<label for="ov-story">${zoned.length === 1 && zoned[0] === 'story' ? '顯示限時動態安全區' : '顯示平台安全區'}</label>` : ''}
  <span class="meta">聯絡表：${formats.map((f) => html`<a href="/e/${e.id}/contact/${f}.png" download="${e.id}-${f}.png">${FORMAT_LABEL[f] ?? f}</a> `)}</span>
</p>`;
}

const hasZone = (zones: Theme['safeZones'], format: string) => {
  const z = zones[format as keyof Theme['safeZones']];
  return Boolean(z && (z.top > 0 || z.bottom > 0));
};

/**
 * The bands a platform covers on this card, drawn in the card's own pixels
 * from the theme's safeZones (the numbers the layouts kept clear). An SVG with
 * attributes, not inline CSS: the app's CSP (style-src 'self') blocks style
 * attributes, custom properties included. Shown by the #ov-story toggle.
 */
function zonesOverlay(
  c: { format: string; width: number; height: number },
  zones: Theme['safeZones'],
): H | '' {
  if (!hasZone(zones, c.format)) return '';
  const z = zones[c.format as keyof Theme['safeZones']]!;
  const top = Math.max(0, z.top);
  const bottom = Math.max(0, z.bottom);
  return html`<svg class="zones" viewBox="0 0 ${c.width} ${c.height}" preserveAspectRatio="none" aria-hidden="true" data-top="${top}" data-bottom="${bottom}"><rect x="0" y="0" width="${c.width}" height="${top}" fill="#c80000" fill-opacity="0.45"/><rect x="0" y="${c.height - bottom}" width="${c.width}" height="${bottom}" fill="#c80000" fill-opacity="0.45"/></svg>`;
}

export function queuePage(
  rows: QueueRow[],
  csrf: string,
  publishers: string[],
  tz: string,
  o: { result?: string; canPublish: boolean },
): H {
  const result = o.result;
  const label: Record<string, string> = {
    queued: '排隊中',
    sending: '發送中',
    published: '已發佈',
    failed: '失敗',
    cancelled: '已取消',
  };
  return html`<h1>發佈佇列</h1>
${result ? html`<p class="notice" role="status">${result}</p>` : ''}
<form method="post" action="/publish" class="filters">
  <input type="hidden" name="_csrf" value="${csrf}">
  <span class="meta">發佈方式：${publishers.join('、') || '（未設定）'}</span>
  <span class="spacer"></span>
  ${
    o.canPublish
      ? html`<button type="submit" class="primary">立即發佈已批准帖文</button>`
      : html`<span class="meta">只有管理員可以發佈。</span>`
  }
</form>
${
  rows.length
    ? html`<div class="table"><table>
<thead><tr><th scope="col">#</th><th scope="col">版次</th><th scope="col">項目</th><th scope="col">平台</th><th scope="col">方式</th><th scope="col">狀態</th><th scope="col">嘗試</th><th scope="col">批准</th><th scope="col">備註</th></tr></thead>
<tbody>
${rows.map(
  (r) =>
    html`<tr class="q-${r.state}"><td>${r.id}</td><td><a href="/e/${r.edition}">${r.edition}</a></td><td><a href="/e/${r.edition}#p-${r.itemId}-${r.platform}">${r.itemId}</a></td><td>${PLATFORM_LABEL[r.platform] ?? r.platform}</td><td>${r.publisher}</td><td class="state">${label[r.state] ?? r.state}</td><td>${r.attempts}</td><td>${r.editor}<br><small>${when(r.createdAt, tz)}</small></td><td><small>${r.postUrl && r.state === 'published' ? html`<a class="post-link" href="${r.postUrl}" rel="noopener noreferrer" target="_blank">查看帖文</a>` : (r.lastError ?? r.response ?? '')}${r.dueAt && r.state === 'queued' ? html` 排期 ${when(r.dueAt, tz)}` : ''}</small></td></tr>`,
)}
</tbody></table></div>`
    : html`<p class="empty">佇列是空的。</p>`
}`;
}

export function messagePage(title: string, text: string, extra?: H): H {
  return html`<section class="login"><h1>${title}</h1><p>${text}</p>${extra ?? ''}</section>`;
}

export function unsubscribeConfirm(email: string): H {
  return html`<section class="login">
  <h1>取消訂閱</h1>
  <p>要停止向 <strong>${email}</strong> 發送電郵簡報嗎？</p>
  <form method="post">
    <input type="hidden" name="List-Unsubscribe" value="One-Click">
    <button type="submit" class="primary">確認取消訂閱</button>
  </form>
  <p class="meta">只是打開這個連結不會取消訂閱。</p>
</section>`;
}
