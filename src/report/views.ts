import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { clicksChart } from './chart.ts';
import type { EditionReport, ReportSummary } from './collect.ts';
import { COMPLAINT_LIMIT, localTime, pct } from './format.ts';

// The report pages of the review app (editors only): /report lists the last N
// editions sent, /report/<edition> shows one. Every interpolation is escaped
// by hono's html``; the one raw() is the chart, whose SVG escapes its own text
// (src/report/chart.ts).

type H = HtmlEscapedString | Promise<HtmlEscapedString>;

const num = (n: number) => n.toLocaleString('en-US');

const stat = (label: string, value: string, note?: string, cls = '') =>
  html`<div class="stat${cls ? ` ${cls}` : ''}"><dt>${label}</dt><dd><span class="n">${value}</span>${note ? html`<small>${note}</small>` : ''}</dd></div>`;

const BASIS: Record<EditionReport['clicks']['uniqueBasis'], string> = {
  readers: '按讀者計（個人化連結）',
  visitors: '約數：按訪客計（未開啟 analytics.perReader）',
  mixed: '部分按讀者、部分按訪客計（約數）',
  none: '',
};

const SOURCE: Record<string, string> = {
  link: '連結／設定頁',
  inbound: '電郵（mailto）',
  imap: '電郵（IMAP）',
  ses: 'SES',
  postmark: 'Postmark',
  sendgrid: 'SendGrid',
  mailgun: 'Mailgun',
};

export function editionReportPage(r: EditionReport, tz: string, o: { hasGallery: boolean }): H {
  const complaintHigh = r.rates.complaint !== null && r.rates.complaint >= COMPLAINT_LIMIT;
  const bySource = Object.entries(r.unsubscribed.bySource)
    .map(([k, v]) => `${SOURCE[k] ?? k} ${num(v)}`)
    .join('、');
  const c = r.clicks;
  const maxUnique = Math.max(1, ...c.stories.map((s) => s.unique));
  return html`<link rel="stylesheet" href="/report/report.css">
<nav class="crumbs" aria-label="位置"><a href="/">版次</a> › <a href="/report">報告</a> › ${r.edition}</nav>
<h1>${r.title ?? r.edition} <span class="date">報告</span></h1>
<p class="meta">${r.edition} · 首次發送 ${localTime(r.firstSentAt, tz)}（${tz}）${o.hasGallery ? html` · <a href="/e/${r.edition}">圖卡及帖文</a>` : ''}</p>
${complaintHigh ? html`<p class="alert" role="alert">投訴率 ${pct(r.rates.complaint, 2)}，高於 Gmail／Yahoo 對大量發件人的 0.3% 上限。</p>` : ''}
${r.ledger.queued ? html`<p class="notice" role="status">尚有 ${num(r.ledger.queued)} 封排隊未發：發送未完成，數字仍會變動。</p>` : ''}
<section aria-labelledby="h-delivery">
<h2 id="h-delivery">投遞</h2>
<dl class="stats">
  ${stat('已發送', num(r.sent), r.inDoubt ? `含 ${num(r.inDoubt)} 封當機後未確認（committed，視作已發送）` : undefined)}
  ${stat('送達', num(r.delivered.count), r.delivered.basis === 'events' ? '電郵服務商回報' : '估算：已發送 − 退回')}
  ${stat('延遲', num(r.deferred.count), `發送記錄 ${num(r.deferred.ledger)}、事件 ${num(r.deferred.events)}`)}
  ${stat('硬退回', num(r.bounced.hard), r.bounced.ledgerFailed ? `含發送時即被拒 ${num(r.bounced.ledgerFailed)}` : undefined, r.bounced.hard ? 'warn' : '')}
  ${stat('軟退回', num(r.bounced.soft), `退回率 ${pct(r.rates.bounce)}`)}
  ${stat('投訴', num(r.complained), `佔送達 ${pct(r.rates.complaint, 2)}`, complaintHigh ? 'bad' : '')}
  ${stat('取消訂閱', num(r.unsubscribed.count), `${pct(r.rates.unsubscribe, 2)}${bySource ? `（${bySource}）` : ''}`)}
  ${stat('已抑制', num(r.suppressed), '讀者已非有效訂閱，未發送')}
</dl>
${r.unattributedEvents ? html`<p class="meta">另有 ${num(r.unattributedEvents)} 個事件無法對應讀者：已保存，未計入上列數字。</p>` : ''}
</section>
<section aria-labelledby="h-engagement">
<h2 id="h-engagement">點擊</h2>
<dl class="stats">
  ${stat('獨立點擊者', num(c.unique), BASIS[c.uniqueBasis] || undefined)}
  ${stat('點擊率', pct(c.ctr), '獨立點擊者 ÷ 送達')}
  ${stat('點擊', num(c.total), `已剔除連結掃描器 ${num(c.scannerFiltered)} 次`)}
  ${r.opens ? stat('開信', num(r.opens.total), `獨立 ${num(r.opens.unique)}（追蹤像素，偏低）`) : ''}
</dl>
<figure class="chart">
${raw(clicksChart(r.timeline.hours, { id: 'clicks-48h' }))}
<figcaption>首次發送後 48 小時內每小時的點擊（不計連結掃描器）。</figcaption>
</figure>
<h3>各報道點擊</h3>
${
  c.stories.length
    ? html`<div class="table"><table class="stories">
<thead><tr><th scope="col">#</th><th scope="col">報道</th><th scope="col" class="num">獨立</th><th scope="col" class="num">點擊</th></tr></thead>
<tbody>
${c.stories.map(
  (s, i) =>
    html`<tr><td class="num">${i + 1}</td><td><span class="title">${s.title}</span>${s.title !== s.story ? '' : html` <small class="meta">（標題不詳）</small>`}<svg class="share" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true"><rect width="${((s.unique / maxUnique) * 100).toFixed(1)}" height="4" fill="#a4161a"/></svg></td><td class="num">${num(s.unique)}</td><td class="num">${num(s.clicks)}</td></tr>`,
)}
</tbody></table></div>`
    : html`<p class="empty">未有點擊記錄。</p>`
}
</section>
<details class="defs"><summary>數字的定義</summary>
<ul>
<li>已發送：發送記錄中 sent 及 committed 的讀者；committed 表示郵件已交出但伺服器回覆前當機，不會重發，視作已發送。</li>
<li>送達：有電郵服務商 delivered 事件時按事件計；否則為估算（已發送 − 發送後退回的讀者）。</li>
<li>硬退回：退信（DSN）或服務商事件中的永久失敗，加上發送時即被拒（5xx）的讀者，每人只計一次；軟退回不含已硬退回的讀者。</li>
<li>投訴率、取消訂閱率：除以送達。Gmail 及 Yahoo 要求投訴率低於 0.3%。</li>
<li>點擊：不計連結掃描器（投遞後數秒內的密集點擊、HEAD 請求）。沒有個人化連結時，獨立點擊者按訪客（IP 與瀏覽器每日的雜湊）計，為約數。</li>
</ul>
</details>`;
}

export function recentReportsPage(rows: ReportSummary[], tz: string, n: number): H {
  return html`<link rel="stylesheet" href="/report/report.css">
<nav class="crumbs" aria-label="位置"><a href="/">版次</a> › 報告</nav>
<h1>報告 <span class="date">最近 ${rows.length} 期</span></h1>
<form class="filters" method="get" action="/report">
  <label>期數 <input type="number" name="last" min="1" max="100" value="${n}" inputmode="numeric"></label>
  <button type="submit">顯示</button>
</form>
${
  rows.length
    ? html`<div class="table"><table class="recent">
<thead><tr><th scope="col">版次</th><th scope="col">首次發送</th><th scope="col" class="num">已發送</th><th scope="col" class="num">送達</th><th scope="col" class="num">硬退回</th><th scope="col" class="num">軟退回</th><th scope="col" class="num">投訴</th><th scope="col" class="num">取消訂閱</th><th scope="col" class="num">獨立點擊</th><th scope="col" class="num">點擊率</th></tr></thead>
<tbody>
${rows.map(
  (r) =>
    html`<tr><th scope="row"><a href="/report/${r.edition}">${r.title ?? r.edition}</a>${r.title ? html`<br><small>${r.edition}</small>` : ''}</th><td>${localTime(r.firstSentAt, tz)}</td><td class="num">${num(r.sent)}</td><td class="num">${num(r.delivered)}${r.deliveredBasis === 'estimate' ? html`<abbr title="估算：已發送 − 退回">*</abbr>` : ''}</td><td class="num">${num(r.bouncedHard)}</td><td class="num">${num(r.bouncedSoft)}</td><td class="num">${num(r.complained)}</td><td class="num">${num(r.unsubscribed)}</td><td class="num">${num(r.uniqueClicks)}</td><td class="num">${pct(r.ctr)}</td></tr>`,
)}
</tbody></table></div>
${rows.some((r) => r.deliveredBasis === 'estimate') ? html`<p class="meta">* 估算：已發送 − 退回（未有電郵服務商的送達事件）。</p>` : ''}`
    : html`<p class="empty">未有已發送的版次。</p>`
}`;
}

/** The report pages' own styles (the app's CSP allows same-origin stylesheets only). */
export const REPORT_CSS = `
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin: 8px 0 16px; padding: 0; }
.stat { background: var(--card, #fff); border: 1px solid var(--line, #e2ddd5); border-radius: 6px; padding: 10px 12px; min-width: 0; }
.stat dt { color: var(--muted, #5c5c5c); font-size: 0.9rem; }
.stat dd { margin: 2px 0 0; }
.stat .n { display: block; font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.2; }
.stat small { display: block; color: var(--muted, #5c5c5c); overflow-wrap: anywhere; }
.stat.warn .n { color: var(--wait, #8a5a00); }
.stat.bad { border-color: var(--bad, #a4161a); }
.stat.bad .n { color: var(--bad, #a4161a); }
.alert { border-left: 4px solid var(--bad, #a4161a); background: #fbeaea; padding: 8px 12px; }
figure.chart { margin: 8px 0 16px; background: var(--card, #fff); border: 1px solid var(--line, #e2ddd5); border-radius: 6px; padding: 8px; max-width: 760px; }
figure.chart svg { display: block; width: 100%; height: auto; }
figure.chart figcaption { color: var(--muted, #5c5c5c); font-size: 0.9rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.stories td .title { overflow-wrap: anywhere; }
table.stories svg.share { display: block; width: 100%; height: 4px; margin-top: 4px; background: var(--line, #e2ddd5); }
table.recent th[scope="row"] { font-weight: 600; white-space: normal; }
.defs { margin-top: 16px; color: var(--muted, #5c5c5c); }
.defs li { margin: 4px 0; }
@media (max-width: 600px) {
  .stats { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .stat .n { font-size: 1.3rem; }
}
`;
