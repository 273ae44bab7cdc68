import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import type { EventSource, MailEventInput, MailEventStore, RecordResult, SendRef } from '../store/events.ts';
import { backendOf } from '../store/signups.ts';
import type { ProviderEvent } from './types.ts';

type Attributed = Omit<MailEventInput, 'source'>;

const attribute = ({ messageId, recipient, ...e }: ProviderEvent, send: SendRef | undefined): Attributed => ({
  ...e,
  subscriberId: send?.subscriberId ?? null,
  edition: send?.edition ?? null,
});

/**
 * Attribute each event to a send — by the original Message-ID, else the latest
 * send to its recipient — and record it through the one shared policy
 * (store/events.ts). SQLite: one transaction for the call, all its events or
 * none. PostgreSQL (issue 17): each event in its own transaction, in order; a
 * call cut off halfway is answered 500, the provider retries it, and the events
 * already stored are skipped as duplicates by their provider ids.
 */
export async function recordEvents(
  store: DB | Backend,
  events: MailEventStore,
  source: EventSource,
  list: readonly ProviderEvent[],
): Promise<RecordResult[]> {
  const backend = backendOf(store);
  if (backend.kind === 'sqlite')
    return backend.db.transaction((): RecordResult[] =>
      list.map((p) => {
        const send =
          (p.messageId ? (events.sendByMessageId(p.messageId) as SendRef | undefined) : undefined) ??
          (p.recipient ? (events.latestSendTo(p.recipient) as SendRef | undefined) : undefined);
        return events.record({ ...attribute(p, send), source }) as RecordResult;
      }),
    )();
  const out: RecordResult[] = [];
  for (const p of list) {
    const send =
      (p.messageId ? await events.sendByMessageId(p.messageId) : undefined) ??
      (p.recipient ? await events.latestSendTo(p.recipient) : undefined);
    out.push(await events.record({ ...attribute(p, send), source }));
  }
  return out;
}
