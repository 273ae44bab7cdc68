import type { Awaitable, Backend } from './backend.ts';
import type { DB } from './db.ts';
import { PgConsent } from './pg/consent.ts';
import { stmt } from './statements.ts';

// How and when each reader agreed to receive mail. Append-only: a later import,
// edit or preference change adds a row or leaves them be, never rewrites one, so
// the first signup and its confirmation stay on record. ip_hash is a keyed hash
// (suppression.ts keyedHash 'ip'), never the address itself.

export type ConsentSource = 'form' | 'import' | 'cli' | 'preferences';

export interface Consent {
  source: ConsentSource;
  list: string | null;
  signupAt: string;
  confirmedAt: string | null;
  ipHash: string | null;
  detail: string | null;
  createdAt: string;
}

export interface ConsentInput {
  source: ConsentSource;
  list?: string;
  signupAt?: string;
  confirmedAt?: string;
  ipHash?: string;
  detail?: string;
}

/** Consent records (issue 17): SQLite below, PostgreSQL in src/store/pg/consent.ts. */
export interface Consents {
  record(subscriberId: number, c: ConsentInput): Awaitable<void>;
  for(subscriberId: number): Awaitable<Consent[]>;
}

export function consentsFor(backend: Backend, now: () => Date = () => new Date()): Consents {
  return backend.kind === 'sqlite' ? new ConsentRepo(backend.db, now) : new PgConsent(backend.pool, now);
}

export const CONSENT_COLUMNS = `source, list, signup_at AS "signupAt", confirmed_at AS "confirmedAt", ip_hash AS "ipHash",
                detail, created_at AS "createdAt"`;

export const INSERT_CONSENT = `INSERT INTO consent (subscriber_id, source, list, signup_at, confirmed_at, ip_hash, detail, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

export const consentRow = (subscriberId: number, c: ConsentInput, now: string): unknown[] => [
  subscriberId,
  c.source,
  c.list ?? null,
  c.signupAt ?? now,
  c.confirmedAt ?? null,
  c.ipHash ?? null,
  c.detail ?? null,
  now,
];

export class ConsentRepo implements Consents {
  constructor(
    private readonly db: DB,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(subscriberId: number, c: ConsentInput): void {
    stmt(this.db, INSERT_CONSENT).run(...consentRow(subscriberId, c, this.now().toISOString()));
  }

  for(subscriberId: number): Consent[] {
    const rows = this.db
      .prepare(`SELECT ${CONSENT_COLUMNS} FROM consent WHERE subscriber_id = ? ORDER BY id`)
      .all(subscriberId);
    return rows as Consent[];
  }
}
