import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { dateFormat } from '../util/intl.ts';

/** A time in the newsroom's zone (config timezone), e.g. 12月10日 08:05; the ISO time on hover. */
export function when(iso: string, tz: string): HtmlEscapedString | Promise<HtmlEscapedString> {
  const f = dateFormat('zh-Hant-HK', {
    timeZone: tz,
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const d = new Date(iso);
  return html`<time datetime="${iso}" title="${iso}">${Number.isNaN(d.getTime()) ? iso : f.format(d)}</time>`;
}
