import type { DB } from '../store/db.ts';
import type { EventSource, MailEvents, RecordResult } from '../store/events.ts';
import type { ProviderEvent } from './types.ts';

/**
 * Attribute each event to a send — by the original Message-ID, else the latest
 * send to its recipient — and record it through the one shared policy
 * (store/events.ts). One transaction for the call: all its events or none.
 */
export function recordEvents(
  db: DB,
  events: MailEvents,
  source: EventSource,
  list: readonly ProviderEvent[],
) {
  return db.transaction((): RecordResult[] =>
    list.map(({ messageId, recipient, ...e }) => {
      const send =
        (messageId ? events.sendByMessageId(messageId) : undefined) ??
        (recipient ? events.latestSendTo(recipient) : undefined);
      return events.record({
        ...e,
        source,
        subscriberId: send?.subscriberId ?? null,
        edition: send?.edition ?? null,
      });
    }),
  )();
}
