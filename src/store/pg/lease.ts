// Leases on PostgreSQL (issue 17). Expiry is the database's clock (NOW_MS), so
// two hosts whose clocks differ agree on when a lease is free. Each step is one
// conditional statement — never read-then-write across round trips:
//   take:     INSERT … ON CONFLICT DO UPDATE … WHERE expired (or the named dead holder) RETURNING
//   refused:  read the holder; if it is a process of THIS host that no longer
//             exists, take it over with a second conditional upsert naming that
//             exact holder (a SIGKILLed daemon's restart does not wait for the ttl).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { alive, type LeaseHolder, type LeaseStore, type StoreLease } from '../lease.ts';
import { NOW_MS } from './heartbeats.ts';
import { type PgPool, pgError } from './pool.ts';

export function pgLeases(pool: PgPool, url: string): LeaseStore {
  const q = async <R extends object>(sql: string, args: unknown[]) => {
    try {
      return await pool.query<R>(sql, args);
    } catch (err) {
      throw pgError(err, url);
    }
  };
  const current = async (name: string) =>
    (
      await q<LeaseHolder>(
        `SELECT holder, pid, host, expires_at AS "expiresAt", (expires_at > ${NOW_MS}) AS live
         FROM leases WHERE name = $1`,
        [name],
      )
    ).rows[0] as (LeaseHolder & { live: boolean }) | undefined;
  const deadHere = (h: LeaseHolder) => h.host === hostname() && h.pid !== process.pid && !alive(h.pid);

  return {
    async acquire(name, ttlMs) {
      const holder = `${process.pid}.${randomBytes(6).toString('hex')}`;
      const host = hostname();
      let takeover = '';
      for (let attempt = 0; attempt < 5; attempt++) {
        const r = await q(
          `INSERT INTO leases (name, holder, pid, host, expires_at) VALUES ($1, $2, $3, $4, ${NOW_MS} + $5)
           ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, pid = EXCLUDED.pid, host = EXCLUDED.host,
             expires_at = EXCLUDED.expires_at
           WHERE leases.expires_at <= ${NOW_MS} OR leases.holder = $6
           RETURNING holder`,
          [name, holder, process.pid, host, ttlMs, takeover],
        );
        if (r.rowCount) return lease(name, holder, ttlMs);
        const cur = await current(name);
        if (!cur) continue; // released in between: try again
        if (cur.live && !deadHere(cur)) {
          const { live: _, ...h } = cur;
          return h;
        }
        takeover = cur.holder; // expired just now, or its process is gone: take exactly that one
      }
      // Five lost races in a row: someone else keeps taking it; report them.
      const cur = await current(name);
      return cur
        ? { holder: cur.holder, pid: cur.pid, host: cur.host, expiresAt: cur.expiresAt }
        : { holder: '?', pid: 0, host: '?', expiresAt: 0 };
    },
    async liveHolder(name) {
      const cur = await current(name);
      if (!cur?.live || deadHere(cur)) return undefined;
      const { live: _, ...h } = cur;
      return h;
    },
  };

  function lease(name: string, holder: string, ttlMs: number): StoreLease {
    return {
      name,
      holder,
      renew: async () =>
        ((
          await q(`UPDATE leases SET expires_at = ${NOW_MS} + $3 WHERE name = $1 AND holder = $2`, [
            name,
            holder,
            ttlMs,
          ])
        ).rowCount ?? 0) > 0,
      release: async () => {
        await q('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
      },
    };
  }
}
