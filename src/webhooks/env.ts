// The webhook secrets, from env only (never the config file). Each one present
// turns its provider on; see docs/webhooks.md.
export const WEBHOOK_ENV = {
  postmark: 'POSTMARK_WEBHOOK_AUTH',
  sendgrid: 'SENDGRID_WEBHOOK_PUBLIC_KEY',
  mailgun: 'MAILGUN_WEBHOOK_SIGNING_KEY',
} as const;

export interface WebhookSecrets {
  /** user:password the Postmark webhook URL carries (HTTP Basic). */
  postmarkAuth?: string;
  /** The Signed Event Webhook's verification key: base64 DER (as SendGrid shows it) or PEM. */
  sendgridPublicKey?: string;
  mailgunSigningKey?: string;
}

export function readWebhookSecrets(env: NodeJS.ProcessEnv = process.env): WebhookSecrets {
  const v = (k: string) => (env[k] && env[k]!.trim() !== '' ? env[k]!.trim() : undefined);
  return {
    postmarkAuth: v(WEBHOOK_ENV.postmark),
    sendgridPublicKey: v(WEBHOOK_ENV.sendgrid),
    mailgunSigningKey: v(WEBHOOK_ENV.mailgun),
  };
}
