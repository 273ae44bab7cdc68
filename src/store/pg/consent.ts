import {
  CONSENT_COLUMNS,
  type Consent,
  type ConsentInput,
  type Consents,
  consentRow,
  INSERT_CONSENT,
} from '../consent.ts';
import type { PgPool } from './pool.ts';
import { dollars } from './subscribers.ts';

// Consent records on the PostgreSQL store (issue 17): append-only, as ConsentRepo.
export class PgConsent implements Consents {
  constructor(
    private readonly pool: PgPool,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(subscriberId: number, c: ConsentInput): Promise<void> {
    await this.pool.query(dollars(INSERT_CONSENT), consentRow(subscriberId, c, this.now().toISOString()));
  }

  async for(subscriberId: number): Promise<Consent[]> {
    const r = await this.pool.query<Consent>(
      `SELECT ${CONSENT_COLUMNS} FROM consent WHERE subscriber_id = $1 ORDER BY id`,
      [subscriberId],
    );
    return r.rows;
  }
}
