import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Context } from '../context.ts';
import { liquidFor } from '../email/compile.ts';
import { toSimplified } from '../email/locale.ts';
import { confirmMessages } from '../email/locales/confirm.ts';
import { escapeHtml } from '../email/merge.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { backendOf, type ConfirmLedger, confirmLedgerFor, type Signup } from '../store/signups.ts';
import { messageTimeoutMs } from './config.ts';
import { defaultTransport } from './deliver.ts';
import { closeQuietly, withDeadline } from './guards.ts';
import { makeComposer, sendingDomain } from './send.ts';
import { issueToken } from './tokens.ts';
import { transports } from './transports/index.ts';

// The double opt-in email (issue 14): templates/email/confirm.mjml + .txt.liquid,
// in the signup's language, through the configured transport (as `send`), and
// recorded in its own ledger (confirm_sends) so each signup gets it once — a
// crash after the commit point never sends a second copy, as for the digest.
//
// The link is /c/<v2 confirm token>: GET shows a button, POST confirms. The same
// URL is the List-Unsubscribe target: a one-click POST there cancels the signup.

export const CONFIRM_TEMPLATE = 'confirm.mjml';
export const CONFIRM_TEXT = 'confirm.txt.liquid';
const PLACEHOLDER = 'https://confirm.invalid/link';

export const confirmUrl = (ctx: Context, token: string) => new URL(`c/${token}`, ctx.config.publicUrl).href;

export function confirmToken(keys: readonly Buffer[], s: Pick<Signup, 'id' | 'list' | 'expiresAt'>): string {
  return issueToken(keys, {
    kind: 'c',
    id: s.id,
    list: s.list,
    exp: Math.floor(Date.parse(s.expiresAt) / 1000),
  });
}

const compiled = new Map<string, { subject: string; html: string; text: string }>();

/** Subject, HTML and text for a locale and list, compiled once per process and filled per link. */
export async function renderConfirm(ctx: Context, locale: string | undefined, list: string, url: string) {
  const t0 = confirmMessages(locale);
  const title = ctx.config.editions[list]?.title ?? list;
  const key = `${t0.lang}\0${list}`;
  let c = compiled.get(key);
  if (!c) {
    const fill = (s: string) =>
      s.replaceAll('{{ list }}', title).replaceAll('{{ brand }}', ctx.config.brand.name);
    const t = Object.fromEntries(Object.entries(t0).map(([k, v]) => [k, fill(v)]));
    const dir = join(ctx.paths.templates, ctx.config.email.templates);
    const engines = liquidFor(dir);
    const data = { t, brand: ctx.config.brand, confirm_url: PLACEHOLDER };
    const source = await engines.html.renderFile(CONFIRM_TEMPLATE, data);
    const mjml = (await import('mjml')).default;
    const out = await mjml(source, { validationLevel: 'soft', minify: false, keepComments: false });
    c = { subject: t.subject!, html: out.html, text: await engines.text.renderFile(CONFIRM_TEXT, data) };
    // The list title and brand are configured in Traditional Chinese: a zh-Hans reader gets them converted too.
    if (t0.lang === 'zh-Hans') c = toSimplified(c);
    compiled.set(key, c);
  }
  return {
    subject: c.subject,
    html: c.html.replaceAll(PLACEHOLDER, escapeHtml(url)),
    text: c.text.replaceAll(PLACEHOLDER, url),
  };
}

/**
 * Send the confirmation for `signup` unless its ledger row says it went (or may
 * have gone) already. Returns what happened; transport faults are logged, not thrown:
 * the signup page answers the same either way.
 */
export async function sendConfirmation(
  ctx: Context,
  store: DB | Backend | ConfirmLedger,
  keys: readonly Buffer[],
  signup: Signup,
): Promise<'sent' | 'already' | 'failed'> {
  const ledger: ConfirmLedger =
    'begin' in store ? store : confirmLedgerFor(backendOf(store), () => ctx.clock.now());
  // The server is stopping (the store is closed): nothing recorded, so the
  // reader's next signup for this address sends it.
  if (!ledger.open) {
    ctx.logger.info({ signup: signup.id }, 'signup confirmation not sent: server stopping');
    return 'failed';
  }
  const transport = transports[defaultTransport(ctx)]!({ ctx, editionDir: join(ctx.paths.out, 'signups') });
  const messageId = `<confirm.${signup.id}.${randomBytes(8).toString('hex')}@${sendingDomain(ctx)}>`;
  let committed = false;
  try {
    if (!(await ledger.begin(signup.id))) return 'already';
    const url = confirmUrl(ctx, confirmToken(keys, signup));
    const msg = await renderConfirm(ctx, signup.locale ?? undefined, signup.list, url);
    const composed = makeComposer(ctx, {
      list: signup.list,
      listName: ctx.config.editions[signup.list]?.title ?? signup.list,
    }).compose({
      email: signup.email,
      name: signup.name,
      subject: msg.subject,
      html: msg.html,
      text: msg.text,
      messageId,
      unsubscribeUrl: url,
      date: ctx.clock.now(),
    });
    const ms = messageTimeoutMs(ctx.config.delivery);
    const res = await withDeadline(
      transport.send({
        ...composed,
        edition: `confirm-${signup.list}`,
        recipient: signup.email,
        // The point of no return: from here this signup's confirmation counts as sent.
        // SQLite: synchronous, inside the write of the end-of-data marker; PostgreSQL: awaited just before it.
        commit: () => {
          const done = ledger.commit(signup.id, messageId, transport.name);
          if (!done) {
            committed = true;
            return;
          }
          return done.then(() => {
            committed = true;
          });
        },
      }),
      ms,
      () => {},
    );
    await ledger.sent(signup.id, res.response);
    ctx.logger.info({ signup: signup.id, transport: transport.name }, 'signup confirmation sent');
    return 'sent';
  } catch (err) {
    const takenElsewhere =
      !committed &&
      ledger.open &&
      !(await Promise.resolve()
        .then(() => ledger.begin(signup.id))
        .catch(() => true));
    if (takenElsewhere) {
      // Another replica committed it first: its copy is the one the reader gets.
      ctx.logger.info({ signup: signup.id }, 'signup confirmation sent by another process');
      return 'already';
    }
    ctx.logger.warn(
      { signup: signup.id, err: String((err as Error).message ?? err) },
      'signup confirmation not sent',
    );
    if (ledger.open)
      await Promise.resolve()
        .then(() => ledger.failed(signup.id, committed))
        .catch((e) =>
          ctx.logger.warn({ signup: signup.id, err: String(e) }, 'signup confirmation: ledger not updated'),
        );
    return 'failed';
  } finally {
    await closeQuietly(transport);
  }
}
