import type { SendInput } from '../delivery/send.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { PgPool } from '../store/pg/pool.ts';

// What a worker needs to compose an edition's messages without a shared disk:
// the edition's SendInput (ids, list, the rendered digest and its locale
// variants), written once per edition by `send` (the first write wins, so a
// repeated send never changes what readers of the same edition get).

export async function writePayload(pool: PgPool, input: SendInput, now: Date): Promise<boolean> {
  const r = await pool.query(
    'INSERT INTO send_payloads (edition, payload, created_at) VALUES ($1, $2, $3) ON CONFLICT (edition) DO NOTHING',
    [input.editionId, JSON.stringify(input), now.toISOString()],
  );
  return r.rowCount === 1;
}

/** Payloads read once per process and edition. */
export function payloadCache(pool: PgPool): (edition: string) => Promise<SendInput> {
  const cache = new Map<string, Promise<SendInput>>();
  return (edition) => {
    let p = cache.get(edition);
    if (!p) {
      p = pool
        .query<{ payload: string }>('SELECT payload FROM send_payloads WHERE edition = $1', [edition])
        .then((r) => {
          if (!r.rows[0]) throw new BroadsheetError('FANOUT_PAYLOAD_MISSING', { edition });
          return JSON.parse(r.rows[0].payload) as SendInput;
        });
      p.catch(() => cache.delete(edition));
      cache.set(edition, p);
    }
    return p;
  };
}
