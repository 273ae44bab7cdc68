// Leases on both stores (issue 17): the same rules on SQLite and PostgreSQL —
// free, held, expired, held by a dead process of this host, renewed, released —
// and on PostgreSQL the database's clock decides expiry.
import { hostname } from 'node:os';
import { expect, it } from 'vitest';
import type { Backend } from '../../src/store/backend.ts';
import { isStoreLease, type LeaseHolder, leaseFor, type StoreLease } from '../../src/store/lease.ts';
import { deadPid } from '../helpers/dead-pid.ts';
import { describeStores } from '../helpers/stores.ts';

async function exec(b: Backend, sql: string, args: unknown[] = []) {
  if (b.kind === 'sqlite') b.db.prepare(sql.replace(/\$\d+/g, '?')).run(...args);
  else await b.pool.query(sql, args);
}

/** A lease row that expires `inMs` from now by the store's own clock. */
async function plant(b: Backend, name: string, pid: number, host: string, inMs: number) {
  const expiry =
    b.kind === 'sqlite'
      ? String(Date.now() + inMs)
      : `(extract(epoch from clock_timestamp()) * 1000)::bigint + ${inMs}`;
  await exec(
    b,
    `INSERT INTO leases (name, holder, pid, host, expires_at) VALUES ($1, $2, $3, $4, ${expiry})`,
    [name, `${pid}.planted`, pid, host],
  );
}

const held = (l: StoreLease | LeaseHolder): StoreLease => {
  if (!isStoreLease(l)) throw new Error(`expected to take the lease, held by ${l.holder}`);
  return l;
};

describeStores('leases', (s) => {
  it('free → taken; taken → refused naming the holder; released → free', async () => {
    const b = await s.open();
    const leases = await leaseFor(b);
    const a = held(await leases.acquire('job:x@1', 60_000));
    const refused = await leases.acquire('job:x@1', 60_000);
    expect(isStoreLease(refused)).toBe(false);
    expect(refused).toMatchObject({ holder: a.holder, pid: process.pid, host: hostname() });
    expect(await leases.liveHolder('job:x@1')).toMatchObject({ holder: a.holder });
    expect(await a.renew()).toBe(true);
    await a.release();
    expect(await leases.liveHolder('job:x@1')).toBeUndefined();
    held(await leases.acquire('job:x@1', 60_000));
  });

  it('an expired lease (by the store’s clock) is taken over; the old holder’s renew then fails', async () => {
    const b = await s.open();
    const leases = await leaseFor(b);
    const a = held(await leases.acquire('job:y@1', 60_000));
    await exec(b, "UPDATE leases SET expires_at = expires_at - 120000 WHERE name = 'job:y@1'");
    expect(await leases.liveHolder('job:y@1')).toBeUndefined();
    const c = held(await leases.acquire('job:y@1', 60_000));
    expect(c.holder).not.toBe(a.holder);
    expect(await a.renew()).toBe(false);
    await a.release(); // releases nothing: not its lease any more
    expect(await leases.liveHolder('job:y@1')).toMatchObject({ holder: c.holder });
  });

  it('a lease held by a dead process of this host is taken at once; a live one elsewhere is not', async () => {
    const b = await s.open();
    const leases = await leaseFor(b);
    await plant(b, 'dead', await deadPid(), hostname(), 3_600_000);
    expect(await leases.liveHolder('dead')).toBeUndefined();
    held(await leases.acquire('dead', 60_000));
    await plant(b, 'elsewhere', 1, 'another-host.example', 3_600_000);
    expect(await leases.acquire('elsewhere', 60_000)).toMatchObject({ pid: 1, host: 'another-host.example' });
    await plant(b, 'soon', 1, 'another-host.example', -1);
    held(await leases.acquire('soon', 60_000));
  });

  it('many takers at once: exactly one gets it', async () => {
    const b = await s.open();
    const leases = await leaseFor(b);
    const all = await Promise.all(Array.from({ length: 12 }, () => leases.acquire('race', 60_000)));
    expect(all.filter(isStoreLease)).toHaveLength(1);
  });
});
