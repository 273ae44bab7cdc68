import { CONSENT_COLUMNS, type Consent, type ConsentInput, type Consents } from '../consent.ts';
import type { PgPool } from './pool.ts';

// Consent records on the PostgreSQL store (issue 17): append-only, as ConsentRepo.
export class PgConsent implements Consents {
  constructor(
    private readonly pool: PgPool,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(subscriberId: number, c: ConsentInput): Promise<void> {
    const now = this.now().toISOString();
    await this.pool.query(
      `INSERT INTO consent (subscriber_id, source, list, signup_at, confirmed_at, ip_hash, detail, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        subscriberId,
        c.source,
        c.list ?? null,
        c.signupAt ?? now,
        c.confirmedAt ?? null,
        c.ipHash ?? null,
        c.detail ?? null,
        now,
      ],
    );
  }

  async for(subscriberId: number): Promise<Consent[]> {
    const r = await this.pool.query<Consent>(
      `SELECT ${CONSENT_COLUMNS} FROM consent WHERE subscriber_id = $1 ORDER BY id`,
      [subscriberId],
    );
    return r.rows;
  }
}
