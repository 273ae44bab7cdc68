// A minimal outbox: one RFC 5322 .eml per recipient, built with nodemailer's
// MailComposer from a digest compiled once and merged per recipient. The
// delivery issue hardens this (ledger, retries, transports); the message
// shape here (headers, one-click unsubscribe) is what SMTP will send too.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import type { DigestResult } from '../email/index.ts';
import { mergeRecipient, type Recipient } from '../email/merge.ts';
import { writeFileAtomic } from '../util/atomic.ts';

export type OutboxRecipient = Recipient;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The domain of an address like `Name <user@example.com>` (for Message-ID and mailto:). */
export function addressDomain(from: string): string {
  const addr = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const domain = addr.split('@').pop()?.trim().toLowerCase();
  return domain && /^[a-z0-9.-]+$/.test(domain) ? domain : 'localhost';
}

/**
 * A file name from an address that is safe on any file system: lower-case
 * [a-z0-9._-] only, bounded, plus a short hash so distinct addresses that
 * sanitise alike (a+b@x, a_b@x) never overwrite each other.
 */
export function outboxFileName(email: string): string {
  const e = email.trim().toLowerCase();
  const safe = e
    .replace(/[^a-z0-9._@-]/g, '_')
    .replace('@', '_at_')
    .replace(/\.{2,}/g, '_')
    .replace(/^[.]+/, '_')
    .slice(0, 80);
  return `${safe}-${sha(e).slice(0, 8)}.eml`;
}

/** Build one message (a Buffer in RFC 5322 form). */
export async function composeMessage(
  digest: DigestResult,
  r: OutboxRecipient,
  opts: { from: string; replyTo?: string; edition: Edition; ctx: Context },
): Promise<Buffer> {
  const merged = mergeRecipient(digest, r, { defaultName: opts.ctx.config.email.defaultName });
  const domain = addressDomain(opts.from);
  const unsubscribeMailto = `mailto:unsubscribe@${domain}?subject=unsubscribe%20${encodeURIComponent(opts.edition.name)}`;
  const composer = new MailComposer({
    from: opts.from,
    to: r.name ? { name: r.name, address: r.email } : r.email,
    replyTo: opts.replyTo,
    subject: merged.subject,
    text: merged.text,
    html: merged.html,
    textEncoding: 'base64',
    date: opts.ctx.clock.now(),
    // Stable per edition and recipient: a re-run produces the same id, which
    // lets receivers (and the future send ledger) spot a duplicate.
    messageId: `<${opts.edition.id}.${sha(r.email.toLowerCase()).slice(0, 20)}@${domain}>`,
    headers: {
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  });
  const node = composer.compile();
  // MailComposer alone does not apply nodemailer's `list` option (the Mailer
  // does), so the List-* headers are set here: ONE List-Unsubscribe carrying
  // the https one-click URL (RFC 8058) and the mailto fallback.
  node.setHeader('List-Unsubscribe', {
    prepared: true,
    foldLines: true,
    value: `${listUrl(r.unsubscribeUrl)}, ${listUrl(unsubscribeMailto)}`,
  } as never);
  node.setHeader('List-Id', { prepared: true, value: `<${opts.edition.name}.${domain}>` } as never);
  return node.build();
}

/** <url> for a List-* header: no whitespace, controls or angle brackets can break out. */
const listUrl = (url: string) => `<${url.replace(/[\u0000-\u001f\u007f\s<>]/g, '')}>`;

export async function writeOutbox(
  digest: DigestResult,
  recipients: OutboxRecipient[],
  opts: { dir: string; from: string; edition: Edition; ctx: Context },
): Promise<{ written: string[] }> {
  const written: string[] = [];
  for (const r of recipients) {
    const eml = await composeMessage(digest, r, { ...opts, replyTo: opts.ctx.config.email.replyTo });
    const file = join(opts.dir, outboxFileName(r.email));
    await writeFileAtomic(file, eml);
    written.push(file);
  }
  opts.ctx.logger.debug({ edition: opts.edition.id, count: written.length, dir: opts.dir }, 'outbox written');
  return { written };
}
