import { readFileSync } from 'node:fs';
import { BroadsheetError } from '../../errors/index.ts';

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
  ignoreTLS?: boolean;
  requireTLS?: boolean;
  tlsRejectUnauthorized?: boolean;
  /** PEM of extra CA certificates to trust (SMTP_URL `?ca=/path/to/ca.pem`). */
  ca?: string;
}

/**
 * SMTP_URL: smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (TLS from the start).
 * Query: ?requireTLS=true, ?ignoreTLS=true, ?ca=/path/to/ca.pem (trust a private CA),
 * ?tlsRejectUnauthorized=false (no certificate check: testing only).
 */
export function parseSmtpUrl(url: string): SmtpSettings {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BroadsheetError('SMTP_URL_INVALID', { detail: 'not a URL' });
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:')
    throw new BroadsheetError('SMTP_URL_INVALID', { detail: `scheme ${u.protocol} (use smtp: or smtps:)` });
  if (!u.hostname) throw new BroadsheetError('SMTP_URL_INVALID', { detail: 'no host' });
  const secure = u.protocol === 'smtps:';
  const q = u.searchParams;
  const caFile = q.get('ca');
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new BroadsheetError(
        'SMTP_URL_INVALID',
        { detail: `cannot read the CA file ${caFile} (?ca=)` },
        { cause: err },
      );
    }
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    auth: u.username
      ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
      : undefined,
    ignoreTLS: q.get('ignoreTLS') === 'true',
    requireTLS: q.get('requireTLS') === 'true',
    tlsRejectUnauthorized: q.get('tlsRejectUnauthorized') !== 'false',
    ca,
  };
}
