import { html } from 'hono/html';

type H = ReturnType<typeof html>;

// The preference centre page (/p/<token>, issue 14): one plain form, no
// JavaScript; the app's public stylesheet lays it out for a 375 px phone.

export const LANGUAGES: [string, string][] = [
  ['zh-Hant-HK', '繁體中文'],
  ['zh-Hans', '简体中文'],
  ['en-GB', 'English'],
];

export interface PreferencesView {
  masked: string;
  name: string;
  locale: string;
  topics: { value: string; checked: boolean }[];
  editions: { value: string; title: string; checked: boolean }[];
  pausedUntil: string;
  active: boolean;
  saved: boolean;
  error?: string;
  /** Relative links: this page and the reader's one-click unsubscribe. */
  unsubscribeAction: string;
}

export function preferencesPage(v: PreferencesView): H {
  const check = (on: boolean) => (on ? html` checked` : '');
  return html`<section class="login">
  <h1>訂閱設定</h1>
  <p>${v.masked}</p>
  ${v.saved ? html`<p role="status">已儲存。</p>` : ''}
  ${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
  ${v.active ? '' : html`<p role="status">這個地址目前不會收到簡報。要重新訂閱，請在訂閱頁再次登記並確認。</p>`}
  <form method="post">
    <label for="pf-name">稱呼</label>
    <input id="pf-name" type="text" name="name" maxlength="64" value="${v.name}">
    <label for="pf-locale">語言</label>
    <select id="pf-locale" name="locale">${LANGUAGES.map(
      ([l, label]) => html`<option value="${l}"${v.locale === l ? html` selected` : ''}>${label}</option>`,
    )}</select>
    ${
      v.editions.length > 1
        ? html`<fieldset><legend>簡報</legend>${v.editions.map(
            (e) =>
              html`<label class="check"><input type="checkbox" name="editions" value="${e.value}"${check(e.checked)}> ${e.title}</label>`,
          )}</fieldset>`
        : ''
    }
    ${
      v.topics.length
        ? html`<fieldset><legend>關注主題（排在前面）</legend>${v.topics.map(
            (t) =>
              html`<label class="check"><input type="checkbox" name="topics" value="${t.value}"${check(t.checked)}> ${t.value}</label>`,
          )}</fieldset>`
        : ''
    }
    <label for="pf-pause">暫停至（這天起恢復）</label>
    <input id="pf-pause" type="date" name="pausedUntil" value="${v.pausedUntil}">
    <input type="hidden" name="save" value="1">
    <button type="submit" class="primary">儲存</button>
  </form>
  ${
    v.active
      ? html`<form method="post" action="${v.unsubscribeAction}">
    <input type="hidden" name="List-Unsubscribe" value="One-Click">
    <button type="submit">取消訂閱</button>
  </form>`
      : ''
  }
</section>`;
}
