import { entry } from './entry.ts';

// Catalog entries for ESP webhooks on serve (/hooks/<provider>) (issue 15). Same rules as catalog.ts.
export const webhookCatalog = {
  WEBHOOK_SECRET_INVALID: entry<{ name: string; detail: string }>({
    title: 'Webhook secret unusable',
    message: (p) => `${p.name} is set but unusable: ${p.detail}`,
    hint: (p) =>
      p.name === 'POSTMARK_WEBHOOK_AUTH'
        ? 'Set it to the user:password that the Postmark webhook URL carries (https://user:password@host/hooks/postmark).'
        : p.name === 'SENDGRID_WEBHOOK_PUBLIC_KEY'
          ? 'Copy the verification key from SendGrid (Mail Settings → Signed Event Webhook) as shown (base64), or as PEM.'
          : 'Copy the HTTP webhook signing key from Mailgun (Sending → Webhooks), or unset the variable.',
    exit: 2,
  }),
  WEBHOOK_CA_UNREADABLE: entry<{ file: string }>({
    title: 'Webhook CA file unreadable',
    message: (p) => `cannot read webhooks.ses.certCaFile ${p.file}`,
    hint: 'This setting exists for tests against a loopback server; remove it in production, or fix the path.',
    exit: 2,
  }),
  WEBHOOK_REFUSED: entry<{ provider: string; reason: string }>({
    title: 'Webhook call refused',
    message: (p) => `${p.provider} webhook refused (401): ${p.reason}`,
    hint: "Check the provider's signing key / credentials in env and that the server's clock is right; nothing was changed.",
    exit: 1,
  }),
  WEBHOOK_MALFORMED: entry<{ provider: string; detail: string }>({
    title: 'Webhook body unreadable',
    message: (p) =>
      `${p.provider} webhook verified but its body is not the documented format (400): ${p.detail}`,
    hint: 'Nothing was changed. Compare the payload with docs/webhooks.md; the provider may have changed its format.',
    exit: 1,
  }),
  WEBHOOK_SNS_CONFIRM_FAILED: entry<{ topicArn: string; detail: string }>({
    title: 'SNS subscription not confirmed',
    message: (p) => `could not confirm the SNS subscription to ${p.topicArn}: ${p.detail}`,
    hint: 'SNS answers 502 so it retries; or open the SubscribeURL logged with it, or confirm in the SNS console.',
    exit: 1,
  }),
} as const;
