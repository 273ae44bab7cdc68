import { Hono } from 'hono';
import type { Context } from '../context.ts';
import { tokenKeys } from '../delivery/tokens.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { DEFAULT_POLICY, mailEventsFor } from '../store/events.ts';
import { backendOf } from '../store/signups.ts';
import { readWebhookSecrets } from './env.ts';
import { httpsGet } from './https-get.ts';
import { recordEvents } from './record.ts';
import { snsConfirmOptions, webhookProviders } from './registry.ts';
import { snsUrl } from './sns.ts';
import { MalformedPayload, type WebhookRequest } from './types.ts';

// POST /hooks/<provider>: an ESP's event webhook (issue 15). Public (the ESP's
// servers call it), exempt from the Origin check, body capped by
// review.limits.bodyBytes. Each call must prove itself by the provider's
// signing method (providers/*.ts): anything unsigned, forged, stale or
// replayed is 401 and changes nothing; a verified body that is not the
// documented format is 400. A provider that is not configured is 404, the same
// as a name that is no provider.

export function webhookRoutes(
  ctx: Context,
  store: DB | Backend,
  secret: Buffer,
  env: NodeJS.ProcessEnv = process.env,
) {
  const app = new Hono();
  const backend = backendOf(store);
  const now = () => ctx.clock.now();
  const cfg = ctx.config.webhooks;
  const providers = webhookProviders(cfg, readWebhookSecrets(env), { now });
  // One bounce policy for every source: the inbound section's soft-bounce limit and window.
  const policy = ctx.config.inbound as
    | { softBounceLimit?: number; softBounceWindowDays?: number }
    | undefined;
  const events = mailEventsFor(
    backend,
    tokenKeys(secret, env),
    {
      softBounceLimit: policy?.softBounceLimit ?? DEFAULT_POLICY.softBounceLimit,
      softBounceWindowDays: policy?.softBounceWindowDays ?? DEFAULT_POLICY.softBounceWindowDays,
    },
    now,
  );
  const confirm = providers.has('ses') ? snsConfirmOptions(cfg) : undefined;
  const log = ctx.logger;

  app.post('/:provider', async (c) => {
    const name = c.req.param('provider');
    const provider = providers.get(name);
    if (!provider) return c.text('Not Found', 404);
    const body = Buffer.from(await c.req.arrayBuffer());
    const req: WebhookRequest = {
      headers: c.req.raw.headers,
      url: new URL(c.req.url),
      body,
      text: body.toString('utf8'),
      now: now(),
    };
    const verdict = await provider.verify(req);
    if (!verdict.ok) {
      const err = new BroadsheetError('WEBHOOK_REFUSED', { provider: name, reason: verdict.reason });
      log.warn({ code: err.code, provider: name, reason: verdict.reason, bytes: body.length }, err.message);
      if (name === 'postmark') c.header('WWW-Authenticate', 'Basic realm="broadsheet webhooks"');
      return c.text('Unauthorized', 401);
    }
    let parsed: ReturnType<typeof provider.parse>;
    try {
      parsed = provider.parse(req);
    } catch (e) {
      if (!(e instanceof MalformedPayload)) throw e;
      const err = new BroadsheetError('WEBHOOK_MALFORMED', { provider: name, detail: e.message });
      log.warn({ code: err.code, provider: name, detail: e.message }, err.message);
      return c.text('Bad Request', 400);
    }
    if (parsed.subscribe && confirm) {
      const { url: raw, topicArn } = parsed.subscribe;
      if (!confirm.autoConfirm) {
        log.warn(
          { provider: name, topicArn, subscribeUrl: raw },
          'SNS subscription awaiting confirmation: open SubscribeURL to confirm (webhooks.ses.autoConfirm is false)',
        );
        return c.json({ confirmed: false });
      }
      const url = snsUrl(raw, confirm.hostPattern, 'SubscribeURL');
      const detail = await (typeof url === 'string'
        ? Promise.resolve(url)
        : httpsGet(url, confirm).then(
            (r) => (r.status === 200 ? undefined : `HTTP ${r.status}`),
            (e: Error) => e.message,
          ));
      if (detail) {
        const err = new BroadsheetError('WEBHOOK_SNS_CONFIRM_FAILED', { topicArn, detail });
        log.error({ code: err.code, topicArn, subscribeUrl: raw }, err.message);
        return c.text('Bad Gateway', 502);
      }
      log.info({ provider: name, topicArn }, 'SNS subscription confirmed');
      return c.json({ confirmed: true });
    }
    if (parsed.unsubscribed) {
      log.warn(
        { provider: name, topicArn: parsed.unsubscribed.topicArn },
        'SNS subscription ended (UnsubscribeConfirmation)',
      );
      return c.json({ recorded: 0 });
    }
    const results = await recordEvents(backend, events, provider.name, parsed.events);
    const recorded = results.filter((r) => r.action !== 'duplicate').length;
    log.info(
      {
        provider: name,
        recorded,
        duplicates: results.length - recorded,
        ignored: parsed.ignored,
        actions: results.map((r) => r.action),
      },
      'webhook events recorded',
    );
    return c.json({ recorded, duplicates: results.length - recorded, ignored: parsed.ignored });
  });
  app.all('*', (c) => c.text('Not Found', 404));
  return app;
}
