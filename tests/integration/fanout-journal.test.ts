import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootId } from '../../src/fanout/journal.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';
import { type Sink, startSink, tally } from '../fixtures/delivery/sink.ts';
import { deadPid } from '../helpers/dead-pid.ts';
import { needsPostgres } from '../helpers/pg.ts';
import { EDITION, exited, type FanoutWorld, fanoutWorld, wait } from './fanout-fixture.ts';

// The dot journal's reconciliation (issue 17): a worker starting on a host reads
// the journals of this host's dead instances. Rows a dead instance committed
// with no journal line (its "." never left) go back to deferred and are sent
// once; journaled rows stay committed (in doubt); a journal of an earlier boot
// changes no row (and is dropped); a live instance's journal is left alone.

const pgOk = await needsPostgres();
const N = 40;
const MAGIC = 'broadsheet-fanout-journal 1';

describe.skipIf(!pgOk)('fan-out dot journal: reconciliation of dead instances', () => {
  let sink: Sink;
  let w: FanoutWorld;
  const data = tempDir('bs-journal-');
  const jdir = join(data, 'fanout-journal');
  beforeAll(async () => {
    sink = await startSink();
    // paths.store (unused: --store is a URL) names this test's local data folder.
    w = await fanoutWorld(
      N,
      `  batchSize: 10\n  leaseSeconds: 3\n  pollSeconds: 0.5\npaths:\n  store: ${join(data, 'broadsheet.db')}\n`,
    );
  });
  afterAll(async () => {
    await sink?.close();
    await w?.drop();
  });

  it('defers and sends once what never left, leaves in doubt what did, touches no other journal', async () => {
    const q = w.spawnCli(['send', '--edition', EDITION, '--transport', 'smtp', '--no-wait'], {
      SMTP_URL: sink.url,
    });
    expect(await exited(q), q.output()).toBe(0);
    const ids = (
      await w.query('SELECT subscriber_id AS id FROM sends WHERE edition = $1 ORDER BY subscriber_id', [
        EDITION,
      ])
    ).map((r) => Number(r.id));
    expect(ids).toHaveLength(N);
    const dead = `worker@${hostname()}:${await deadPid()}:aaaaaa`;
    const stale = `worker@${hostname()}:${await deadPid()}:bbbbbb`;
    const live = `worker@${hostname()}:${process.pid}:cccccc`;
    const commit = (sub: number[], worker: string) =>
      w.query(
        `UPDATE sends SET state = 'committed', worker = $3, claimed_until = 0, transport = 'smtp', attempts = 1
         WHERE edition = $1 AND subscriber_id = ANY($2::bigint[])`,
        [EDITION, sub, worker],
      );
    const lost = [ids[0]!, ids[3]!, ids[17]!, ids[31]!]; // committed, no line: "." never left
    const dotted = [ids[1]!, ids[18]!]; // committed with a line: in doubt
    const staleRows = [ids[5]!, ids[6]!];
    const liveRows = [ids[7]!, ids[8]!];
    await commit([...lost, ...dotted], dead);
    await commit(staleRows, stale);
    await commit(liveRows, live);
    // Every other row is settled: only the reconciled ones are left to send.
    const rest = ids.filter((id) => ![...lost, ...dotted, ...staleRows, ...liveRows].includes(id));
    await w.query(
      `UPDATE sends SET state = 'sent' WHERE edition = $1 AND subscriber_id = ANY($2::bigint[])`,
      [EDITION, rest],
    );
    mkdirSync(jdir, { recursive: true });
    const journal = (worker: string, boot: string, lines: number[], partial = '') => {
      const pid = worker.split(':')[1];
      const file = join(jdir, `${worker.replace(/[^A-Za-z0-9._@-]/g, '_')}.log`);
      writeFileSync(
        file,
        `${MAGIC}\t${boot}\t${pid}\t${hostname()}\t${worker}\n${lines.map((id) => `${EDITION}\t${id}\n`).join('')}${partial}`,
      );
      return file;
    };
    // The dead instance's last line was cut mid-write: it does not count.
    const deadFile = journal(dead, bootId(), dotted, `${EDITION}\t${lost[3]}`);
    const staleFile = journal(stale, 'another-boot-id', []);
    const liveFile = journal(live, bootId(), []);

    const p = w.spawnCli(['worker'], { SMTP_URL: sink.url, LOG_LEVEL: 'warn' });
    const sentOf = async () =>
      (
        await w.query(
          `SELECT count(*)::int AS n FROM sends WHERE edition = $1 AND subscriber_id = ANY($2::bigint[]) AND state = 'sent'`,
          [EDITION, lost],
        )
      )[0]!.n as number;
    for (let i = 0; i < 240 && (await sentOf()) < lost.length; i++) await wait(250);
    await wait(1000); // nothing else may follow
    p.kill('SIGTERM');
    expect(await exited(p), p.output()).toBe(0);

    const { byRecipient } = tally(sink.received);
    const email = async (id: number) =>
      (await w.query('SELECT email FROM subscribers WHERE id = $1', [id]))[0]!.email as string;
    expect(sink.received).toHaveLength(lost.length);
    for (const id of lost) expect(byRecipient.get(await email(id))).toBe(1);
    const state = async (sub: number[]) =>
      (
        await w.query(
          'SELECT state, worker FROM sends WHERE edition = $1 AND subscriber_id = ANY($2::bigint[]) ORDER BY subscriber_id',
          [EDITION, sub],
        )
      ).map((r) => `${r.state}:${r.worker}`);
    expect(await state(lost)).toEqual(lost.map(() => expect.stringMatching(/^sent:/)));
    expect(await state(dotted)).toEqual(dotted.map(() => `committed:${dead}`));
    expect(await state(staleRows)).toEqual(staleRows.map(() => `committed:${stale}`));
    expect(await state(liveRows)).toEqual(liveRows.map(() => `committed:${live}`));
    expect(existsSync(deadFile)).toBe(false);
    expect(existsSync(staleFile)).toBe(false);
    expect(existsSync(liveFile)).toBe(true);
    expect(p.output()).toContain('"journals":1,"deferred":4,"inDoubt":2,"stale":1');
    // The worker's own journal went with its clean stop: only the live instance's is left.
    expect(readdirSync(jdir)).toEqual([basename(liveFile)]);
  }, 180_000);
});
