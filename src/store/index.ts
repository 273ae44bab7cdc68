export { type DB, openStore, storeError } from './db.ts';
export { acquireLease, isLease, type Lease, type LeaseHolder } from './lease.ts';
export { Ledger, type LedgerRow, SEND_STATES, type SendState } from './ledger.ts';
export { finishRun, startRun } from './runs.ts';
export {
  normalizeEmail,
  SUBSCRIBER_STATUSES,
  type Subscriber,
  type SubscriberInput,
  SubscriberRepo,
  type SubscriberStatus,
} from './subscribers.ts';
