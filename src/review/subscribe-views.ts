import { html } from 'hono/html';
import type { ConfirmMessages } from '../email/locales/confirm.ts';

type H = ReturnType<typeof html>;

// The public signup pages (issue 14): plain forms, no JavaScript; the shared
// app.css lays them out for a 375 px phone like the unsubscribe page.

export interface SignupForm {
  t: ConfirmMessages;
  /** Where the form posts: relative, so it works under publicUrl's path too. */
  action: string;
  list: string;
  listTitle: string;
  topics: string[];
  values?: { email?: string; name?: string };
  error?: string;
}

export function signupPage(f: SignupForm): H {
  return html`<section class="login">
  <h1>${f.t.signupTitle}｜${f.listTitle}</h1>
  ${f.error ? html`<p class="error" role="alert">${f.error}</p>` : ''}
  <form method="post" action="${f.action}">
    <input type="hidden" name="edition" value="${f.list}">
    <label for="su-email">${f.t.emailLabel}</label>
    <input id="su-email" type="email" name="email" required maxlength="254" autocomplete="email" value="${f.values?.email ?? ''}">
    <label for="su-name">${f.t.nameLabel}</label>
    <input id="su-name" type="text" name="name" maxlength="64" autocomplete="name" value="${f.values?.name ?? ''}">
    ${
      f.topics.length
        ? html`<fieldset><legend>${f.t.topicsLabel}</legend>${f.topics.map(
            (t) => html`<label class="check"><input type="checkbox" name="topics" value="${t}"> ${t}</label>`,
          )}</fieldset>`
        : ''
    }
    <label for="su-locale">${f.t.localeLabel}</label>
    <select id="su-locale" name="locale">
      <option value="zh-Hant-HK">繁體中文</option><option value="zh-Hans">简体中文</option><option value="en-GB">English</option>
    </select>
    <p hidden aria-hidden="true"><label>Website<input type="text" name="website" tabindex="-1" autocomplete="off"></label></p>
    <button type="submit" class="primary">${f.t.submit}</button>
  </form>
</section>`;
}

export function confirmPage(t: ConfirmMessages, action: string): H {
  return html`<section class="login">
  <h1>${t.confirmTitle}</h1>
  <form method="post" action="${action}">
    <input type="hidden" name="confirm" value="yes">
    <button type="submit" class="primary">${t.confirmButton}</button>
  </form>
</section>`;
}

/** The copy-paste snippet for a newsroom's own pages (README § The review app → Signup). */
export function embedSnippet(actionUrl: string, list: string): string {
  return `<form method="post" action="${actionUrl}">
  <input type="hidden" name="edition" value="${list}">
  <input type="email" name="email" required maxlength="254" placeholder="電郵地址">
  <input type="text" name="website" tabindex="-1" autocomplete="off" style="position:absolute;left:-9999px" aria-hidden="true">
  <button type="submit">訂閱</button>
</form>`;
}
