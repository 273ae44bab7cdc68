import type {
  PreferencesChange,
  Row,
  Subscriber,
  SubscriberInput,
  SubscriberStatus,
  Subscribers,
  UpsertOutcome,
} from '../subscribers.ts';
import { firstConsent, fromRow, normalizeEmail, preferencesRow, SET_PREFERENCES } from '../subscribers.ts';
import type { PgClient, PgPool } from './pool.ts';

// The readers on the PostgreSQL store (issue 17): the same rows, rules and
// outcomes as SubscriberRepo (src/store/subscribers.ts). An import is one
// transaction of set-based statements per chunk of rows (SELECT … = ANY,
// INSERT … SELECT FROM unnest … ON CONFLICT, UPDATE … FROM unnest), not one
// round trip per row: 100,000 rows take a few dozen round trips. pool.ts (and
// with it `pg`) is imported on first use, so the SQLite path never loads it.

/** Rows per set-based statement: bounded parameter arrays, a few MB each. */
const CHUNK = 5000;

/** `?` placeholders (statements written once for both stores) as $1, $2, … */
export const dollars = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

export const tx = async <T>(pool: PgPool, fn: (c: PgClient) => Promise<T>): Promise<T> => {
  const { withTransaction } = await import('./pool.ts');
  return withTransaction(pool, fn);
};

type Prepared = {
  email: string;
  name: string | null;
  locale: string | null;
  topics: string;
  given: SubscriberInput;
};

export class PgSubscribers implements Subscribers {
  constructor(
    readonly pool: PgPool,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(email: string): Promise<Subscriber | undefined> {
    const r = await this.pool.query<Row>('SELECT * FROM subscribers WHERE email = $1', [
      normalizeEmail(email),
    ]);
    return r.rows[0] && fromRow(r.rows[0]);
  }

  async byId(id: number): Promise<Subscriber | undefined> {
    const r = await this.pool.query<Row>('SELECT * FROM subscribers WHERE id = $1', [id]);
    return r.rows[0] && fromRow(r.rows[0]);
  }

  async list(opts: { status?: SubscriberStatus } = {}): Promise<Subscriber[]> {
    const r = opts.status
      ? await this.pool.query<Row>('SELECT * FROM subscribers WHERE status = $1 ORDER BY id', [opts.status])
      : await this.pool.query<Row>('SELECT * FROM subscribers ORDER BY id');
    return r.rows.map(fromRow);
  }

  async count(status?: SubscriberStatus): Promise<number> {
    const r = status
      ? await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM subscribers WHERE status = $1', [
          status,
        ])
      : await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM subscribers');
    return r.rows[0]!.n;
  }

  async upsert(input: SubscriberInput, source: string): Promise<UpsertOutcome> {
    return (await tx(this.pool, (c) => this.upsertIn(c, [input], source)))[0]!;
  }

  async upsertMany(inputs: SubscriberInput[], source: string): Promise<Record<UpsertOutcome, number>> {
    const counts: Record<UpsertOutcome, number> = { added: 0, updated: 0, unchanged: 0, 'kept-status': 0 };
    await tx(this.pool, async (c) => {
      for (const o of await this.upsertIn(c, inputs, source)) counts[o]++;
    });
    return counts;
  }

  /**
   * Upsert `inputs` in order inside the caller's transaction; one outcome per
   * input. An address repeated in the list starts a new chunk, so its second
   * row sees the first, as one-by-one upserts would.
   */
  async upsertIn(c: PgClient, inputs: SubscriberInput[], source: string): Promise<UpsertOutcome[]> {
    const out: UpsertOutcome[] = [];
    let chunk: Prepared[] = [];
    let seen = new Set<string>();
    for (const given of inputs) {
      const email = normalizeEmail(given.email);
      if (seen.has(email) || chunk.length >= CHUNK) {
        out.push(...(await this.chunk(c, chunk, source)));
        chunk = [];
        seen = new Set();
      }
      seen.add(email);
      chunk.push({
        email,
        name: given.name ?? null,
        locale: given.locale ?? null,
        topics: JSON.stringify(given.topics ?? []),
        given,
      });
    }
    if (chunk.length) out.push(...(await this.chunk(c, chunk, source)));
    return out;
  }

  private async chunk(c: PgClient, rows: Prepared[], source: string): Promise<UpsertOutcome[]> {
    const now = this.now().toISOString();
    const outcome = new Map<string, UpsertOutcome>();
    const lock = (emails: string[]) =>
      c.query<Row>('SELECT * FROM subscribers WHERE email = ANY($1::text[]) FOR UPDATE', [emails]);
    const existing = (await lock(rows.map((r) => r.email))).rows;
    const known = new Set(existing.map((r) => r.email));
    const add = rows.filter((r) => !known.has(r.email));
    // Only addresses not found are inserted, so ids stay dense as on SQLite; one
    // another host inserted meanwhile is skipped by ON CONFLICT and compared below.
    const fresh = add.length
      ? await c.query<{ id: number; email: string }>(
          `INSERT INTO subscribers (email, name, locale, topics, status, source, created_at, updated_at)
           SELECT e, n, l, t, 'active', $5, $6, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS v(e, n, l, t, i)
           ORDER BY i ON CONFLICT (email) DO NOTHING RETURNING id, email`,
          [
            add.map((r) => r.email),
            add.map((r) => r.name),
            add.map((r) => r.locale),
            add.map((r) => r.topics),
            source,
            now,
          ],
        )
      : { rows: [] };
    if (fresh.rows.length) {
      const consent = firstConsent(source);
      await c.query(
        `INSERT INTO consent (subscriber_id, source, list, signup_at, confirmed_at, ip_hash, detail, created_at)
         SELECT id, $2, NULL, $3, NULL, NULL, $4, $3 FROM unnest($1::bigint[]) AS v(id) ORDER BY id`,
        [fresh.rows.map((r) => r.id), consent.source, now, consent.detail ?? null],
      );
      for (const r of fresh.rows) outcome.set(r.email, 'added');
    }
    const raced = add.filter((r) => !outcome.has(r.email)).map((r) => r.email);
    if (raced.length) existing.push(...(await lock(raced)).rows);
    const byEmail = new Map(existing.map((r) => [r.email, r]));
    const changed: { id: number; name: string | null; locale: string | null; topics: string }[] = [];
    for (const r of rows) {
      if (outcome.has(r.email)) continue;
      const e = byEmail.get(r.email)!;
      const name = r.given.name ?? e.name;
      const locale = r.given.locale ?? e.locale;
      const diff = name !== e.name || locale !== e.locale || r.topics !== e.topics;
      if (diff) changed.push({ id: e.id, name, locale, topics: r.topics });
      outcome.set(r.email, e.status !== 'active' ? 'kept-status' : diff ? 'updated' : 'unchanged');
    }
    if (changed.length)
      await c.query(
        `UPDATE subscribers s SET name = v.n, locale = v.l, topics = v.t, updated_at = $5
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS v(id, n, l, t) WHERE s.id = v.id`,
        [
          changed.map((r) => r.id),
          changed.map((r) => r.name),
          changed.map((r) => r.locale),
          changed.map((r) => r.topics),
          now,
        ],
      );
    return rows.map((r) => outcome.get(r.email)!);
  }

  async setPreferences(id: number, p: PreferencesChange): Promise<void> {
    const cur = await this.byId(id);
    if (cur) await this.pool.query(dollars(SET_PREFERENCES), preferencesRow(cur, p, this.now()));
  }

  async setStatus(email: string, status: SubscriberStatus, reason?: string): Promise<boolean> {
    const now = this.now().toISOString();
    const r = await this.pool.query(
      'UPDATE subscribers SET status = $1, status_reason = $2, status_at = $3, updated_at = $3 WHERE email = $4',
      [status, reason ?? null, now, normalizeEmail(email)],
    );
    return (r.rowCount ?? 0) > 0;
  }
}
