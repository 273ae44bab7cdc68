import { createHash } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser';
import dkimSign from 'nodemailer/lib/dkim/sign';
import { encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';
import { base64LineChunks } from './base64-lines.ts';
import { pooledRandomBytes } from './random-pool.ts';

// One message per recipient, built from strings prepared once per send: the
// digest is compiled once per edition (email stage), merged per recipient,
// and only the per-recipient headers and the two base64 parts are made here.
// MailComposer per message costs more than the SMTP exchange itself on a
// loopback sink; this is the same MIME it would write (multipart/alternative,
// text + HTML, UTF-8, base64), minus its stream machinery.

/** Every header value goes through this: no control character, of any kind, reaches a header. */
export function headerSafe(v: string): string {
  // C0, DEL, C1, and the Unicode line/paragraph separators become a space.
  return v
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** A bare address fit for an envelope and an angle-bracket header: no spaces, brackets or controls. */
const ADDRESS = /^[^\s<>()",;:\\@\u0000-\u001f\u007f]+@[a-z0-9.-]+\.[a-z0-9-]+$/i;
export const isSafeAddress = (a: string) => ADDRESS.test(a) && a.length <= 254;

export class UnsafeAddressError extends Error {
  constructor(readonly address: string) {
    super(`refusing unsafe address ${JSON.stringify(address)}`);
  }
}

/** `Name <addr>` with the name as RFC 2047 words when it is not plain ASCII. */
export function formatAddress(address: string, name?: string | null): string {
  if (!isSafeAddress(address)) throw new UnsafeAddressError(address);
  const n = name ? headerSafe(name) : '';
  if (!n) return address;
  const display = /^[\w !#$%&'*+\-/=?^`{|}~.]*$/.test(n)
    ? /[.]/.test(n)
      ? `"${n}"`
      : n
    : encodeWords(n, 'B', 52, true);
  return `${display} <${address}>`;
}

/** Parse `Name <addr>` (config's email.from) into its parts. */
export function parseAddress(v: string): { name: string; address: string } {
  const first = addressparser(v)[0];
  const address = first && 'address' in first ? (first.address ?? '') : '';
  if (!isSafeAddress(address)) throw new UnsafeAddressError(address || v);
  return { name: first && 'name' in first ? (first.name ?? '') : '', address };
}

const header = (name: string, value: string) => foldLines(`${name}: ${value}`, 76);

/** base64 in 76-character lines, CRLF-terminated, as ASCII byte chunks (a string is UTF-8 first). */
function base64Lines(s: string | Buffer | readonly Buffer[]): Buffer[] {
  return base64LineChunks(typeof s === 'string' ? [Buffer.from(s, 'utf8')] : Buffer.isBuffer(s) ? [s] : s);
}

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
}

export interface ComposerOptions {
  from: string;
  replyTo?: string;
  /** Domain for Message-IDs (also what the bounce address belongs to). */
  listId: string;
  listName: string;
  unsubscribeMailto: string;
  dkim?: DkimKey;
  /**
   * Envelope sender (MAIL FROM) when a message names none: the plain bounce
   * address. Default: the From address (VERP off).
   */
  returnPath?: string;
}

export interface RecipientMessage {
  email: string;
  name?: string | null;
  subject: string;
  /** The parts as strings, or as their UTF-8 bytes, whole or in chunks (mergeRecipientBytes): the same message. */
  html: string | Buffer | readonly Buffer[];
  text: string | Buffer | readonly Buffer[];
  messageId: string;
  unsubscribeUrl: string;
  date: Date;
  /** The reader's digest variant's From name and List-Id phrase (大公报每日简报), when not the configured ones. */
  fromName?: string;
  listName?: string;
  /** This message's envelope sender: its VERP address (src/delivery/verp.ts). Never a header. */
  returnPath?: string;
}

export interface Composed {
  raw: Buffer;
  /**
   * No line of `raw` begins with "." and it ends in CRLF: SMTP sends it with
   * no dot-stuffing pass (RFC 5321 § 4.5.2). Set by the Composer, which checks
   * its header block; its body is MIME boundaries ("--…") and base64 lines.
   */
  dotSafe?: boolean;
  envelope: { from: string; to: string[] };
  messageId: string;
}

// The header fields the DKIM signature covers. RFC 8058 requires both
// List-Unsubscribe and List-Unsubscribe-Post in h= for one-click unsubscribe.
const SIGNED =
  'From:Reply-To:To:Subject:Date:Message-ID:MIME-Version:Content-Type:List-Id:List-Unsubscribe:List-Unsubscribe-Post';

export class Composer {
  private readonly fromHeader: string;
  private readonly fromAddress: string;
  private readonly fixed: { key: string; line: string }[];
  /** The last Subject line made: the same subject for reader after reader is encoded once. */
  private lastSubject = { subject: '', line: '' };

  constructor(private readonly opts: ComposerOptions) {
    const from = parseAddress(opts.from);
    this.fromAddress = from.address;
    this.fromHeader = formatAddress(from.address, from.name);
    this.fixed = [
      { key: 'mime-version', line: 'MIME-Version: 1.0' },
      this.listIdLine(opts.listName),
      { key: 'list-unsubscribe-post', line: 'List-Unsubscribe-Post: List-Unsubscribe=One-Click' },
    ];
    if (opts.replyTo) {
      const r = parseAddress(opts.replyTo);
      this.fixed.push({ key: 'reply-to', line: header('Reply-To', formatAddress(r.address, r.name)) });
    }
  }

  private listIdLine(name: string): { key: string; line: string } {
    const listName = headerSafe(name);
    return {
      key: 'list-id',
      line: header(
        'List-Id',
        `${listName ? `${encodeWords(listName, 'B', 52)} ` : ''}<${headerSafe(this.opts.listId)}>`,
      ),
    };
  }

  private subjectLine(subject: string): string {
    if (this.lastSubject.subject === subject && this.lastSubject.line) return this.lastSubject.line;
    const line = header('Subject', encodeWords(headerSafe(subject), 'B', 52));
    this.lastSubject = { subject, line };
    return line;
  }

  compose(m: RecipientMessage): Composed {
    if (!isSafeAddress(m.email)) throw new UnsafeAddressError(m.email);
    const envelopeFrom = m.returnPath ?? this.opts.returnPath ?? this.fromAddress;
    if (!isSafeAddress(envelopeFrom)) throw new UnsafeAddressError(envelopeFrom);
    if (!/^<[^<>\s\u0000-\u001f]+@[^<>\s\u0000-\u001f]+>$/.test(m.messageId))
      throw new Error(`bad Message-ID ${m.messageId}`);
    const unsubscribeUrl = m.unsubscribeUrl;
    if (
      !/^https:\/\/[^\s<>,\u0000-\u001f]+$/.test(unsubscribeUrl) &&
      !/^http:\/\/[^\s<>,\u0000-\u001f]+$/.test(unsubscribeUrl)
    )
      throw new Error(`bad unsubscribe URL ${unsubscribeUrl}`);
    const token = unsubscribeUrl.slice(unsubscribeUrl.lastIndexOf('/') + 1);
    const mailto = `mailto:${this.opts.unsubscribeMailto}?subject=${encodeURIComponent(`unsubscribe ${token}`)}`;
    const boundary = `--_bs_${pooledRandomBytes(12).toString('hex')}`;
    const headers: { key: string; line: string }[] = [
      {
        key: 'from',
        line: header(
          'From',
          m.fromName ? formatAddress(this.fromAddress, headerSafe(m.fromName)) : this.fromHeader,
        ),
      },
      { key: 'to', line: header('To', formatAddress(m.email, m.name)) },
      { key: 'subject', line: this.subjectLine(m.subject) },
      { key: 'date', line: `Date: ${m.date.toUTCString().replace(/GMT$/, '+0000')}` },
      { key: 'message-id', line: `Message-ID: ${m.messageId}` },
      ...(m.listName
        ? this.fixed.map((f) => (f.key === 'list-id' ? this.listIdLine(m.listName!) : f))
        : this.fixed),
      // One header, two URIs (RFC 2369): https for one-click (RFC 8058), mailto as fallback.
      { key: 'list-unsubscribe', line: `List-Unsubscribe: <${unsubscribeUrl}>,\r\n <${mailto}>` },
      { key: 'content-type', line: `Content-Type: multipart/alternative;\r\n boundary="${boundary}"` },
    ];
    // The body is ASCII (MIME lines, base64), kept as byte chunks: copied once, into `raw`.
    const ascii = (v: string) => Buffer.from(v, 'latin1');
    const body = [
      ascii(
        `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
      ),
      ...base64Lines(m.text),
      ascii(
        `--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
      ),
      ...base64Lines(m.html),
      ascii(`--${boundary}--\r\n`),
    ];
    let head = '';
    if (this.opts.dkim) {
      // Relaxed body canonicalization of this body is the body itself: base64
      // and MIME lines carry no trailing or repeated whitespace and it ends in
      // exactly one CRLF.
      const hash = createHash('sha256');
      for (const b of body) hash.update(b);
      const bh = hash.digest('base64');
      const sig = dkimSign(headers, 'sha256', bh, {
        domainName: this.opts.dkim.domain,
        keySelector: this.opts.dkim.selector,
        privateKey: this.opts.dkim.privateKey,
        headerFieldNames: SIGNED,
      });
      if (!sig) throw new Error('DKIM signing failed (is the key a PEM RSA private key?)');
      head = `${sig}\r\n`;
    }
    for (const h of headers) head += `${h.line}\r\n`;
    return {
      raw: Buffer.concat([Buffer.from(`${head}\r\n`, 'utf8'), ...body]),
      // Headers are folded with leading whitespace and cleaned of controls, so this holds; checked, not assumed.
      dotSafe: head[0] !== '.' && !head.includes('\n.'),
      // The header From stays; only the envelope carries the return path (DKIM signs headers).
      envelope: { from: envelopeFrom, to: [m.email] },
      messageId: m.messageId,
    };
  }
}
