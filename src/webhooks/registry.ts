import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BroadsheetError } from '../errors/index.ts';
import type { WebhooksConfig } from './config.ts';
import { WEBHOOK_ENV, type WebhookSecrets } from './env.ts';
import { mailgun } from './providers/mailgun.ts';
import { postmark } from './providers/postmark.ts';
import { sendgrid, sendgridKey } from './providers/sendgrid.ts';
import { ses } from './providers/ses.ts';
import { SnsCertCache } from './sns.ts';
import type { Provider } from './types.ts';

// The providers /hooks/<name> answers for: one line each. A provider without
// its secret (SES: without topics) is left out, so its path is 404. A secret
// that is set but unusable stops `serve` at start (exit 2), not at the first call.

export interface RegistryDeps {
  now: () => Date;
}

const invalid = (name: string, detail: string) =>
  new BroadsheetError('WEBHOOK_SECRET_INVALID', { name, detail });

export function webhookProviders(cfg: WebhooksConfig, secrets: WebhookSecrets, deps: RegistryDeps) {
  const providers = new Map<string, Provider>();
  const add = (p: Provider | undefined) => p && providers.set(p.name, p);

  if (cfg.ses.topicArns.length > 0) {
    let ca: string | undefined;
    if (cfg.ses.certCaFile) {
      try {
        ca = readFileSync(cfg.ses.certCaFile, 'utf8');
      } catch (err) {
        throw new BroadsheetError('WEBHOOK_CA_UNREADABLE', { file: cfg.ses.certCaFile }, { cause: err });
      }
    }
    const certs = new SnsCertCache({
      timeoutMs: cfg.ses.certTimeoutMs,
      maxBytes: cfg.ses.certMaxBytes,
      ca,
      now: deps.now,
    });
    add(
      ses({
        topicArns: cfg.ses.topicArns,
        maxAgeSeconds: cfg.ses.maxAgeSeconds,
        hostPattern: new RegExp(cfg.ses.certHostPattern),
        certs,
      }),
    );
  }

  if (secrets.postmarkAuth !== undefined) {
    if (!/^[^:]+:.+$/s.test(secrets.postmarkAuth)) throw invalid(WEBHOOK_ENV.postmark, 'not user:password');
    add(postmark({ auth: secrets.postmarkAuth }));
  }

  if (secrets.sendgridPublicKey !== undefined) {
    let publicKey: KeyObject;
    try {
      publicKey = sendgridKey(secrets.sendgridPublicKey);
    } catch (err) {
      throw invalid(WEBHOOK_ENV.sendgrid, `not an EC public key (${(err as Error).message.slice(0, 80)})`);
    }
    add(sendgrid({ publicKey, maxAgeSeconds: cfg.maxAgeSeconds }));
  }

  if (secrets.mailgunSigningKey !== undefined) {
    if (secrets.mailgunSigningKey.length < 16)
      throw invalid(WEBHOOK_ENV.mailgun, 'shorter than 16 characters');
    add(mailgun({ signingKey: secrets.mailgunSigningKey, maxAgeSeconds: cfg.maxAgeSeconds }));
  }
  return providers;
}

/** Where SNS confirmation links may point, and how to reach them (the same rules as certificates). */
export function snsConfirmOptions(cfg: WebhooksConfig) {
  return {
    hostPattern: new RegExp(cfg.ses.certHostPattern),
    timeoutMs: cfg.ses.certTimeoutMs,
    maxBytes: cfg.ses.certMaxBytes,
    ca: cfg.ses.certCaFile ? readFileSync(cfg.ses.certCaFile, 'utf8') : undefined,
    autoConfirm: cfg.ses.autoConfirm,
  };
}
