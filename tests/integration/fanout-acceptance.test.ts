import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import { needsPostgres } from '../helpers/pg.ts';

// Issue 17's acceptance run at CI size, through the same script as the full one
// (bench/scale-out-check.ts): one fresh PostgreSQL database, 1,500 readers
// imported with the CLI, a loopback SMTP sink, two `schedule` daemons whose
// `send` job fires a few seconds after they start, three `worker` processes,
// five seeded SIGKILLs. Asserted from the script's JSON line: no reader got a
// second message (by address and Message-ID), every `sent` row arrived once,
// only in-doubt rows may be missing, the occurrence ran once, and `status` and
// `report` agree with the ledger and the sink.

const pgOk = await needsPostgres();

describe.skipIf(!pgOk)('scale-out acceptance (CI size)', () => {
  it('2 daemons, 3 workers, 1,500 readers, 5 SIGKILLs: each reader at most once, all figures agree', async () => {
    const p = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'bench/scale-out-check.ts'),
        '--readers',
        '1500',
        '--kills',
        '5',
        '--seed',
        '170017',
        '--lease',
        '4',
        '--batch',
        '100',
        '--fire-in',
        '10',
        '--deadline',
        '400',
        '--quiet',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => {
      out += c;
    });
    p.stderr.on('data', (c) => {
      err += c;
    });
    const code = await new Promise<number | null>((r) => p.once('exit', r));
    const line = JSON.parse(out.trim().split('\n').pop() ?? '{}');
    expect(line.checks, err.slice(-4000)).toBeDefined();
    expect(line.kills).toHaveLength(5);
    expect(line.checks).toEqual({
      settled: true,
      noSecondCopy: true,
      noStranger: true,
      everySentReceivedOnce: true,
      sentPlusDeliveredInDoubtEqualsReceived: true,
      onlyInDoubtMissing: true,
      allAccounted: true,
      statusAgrees: true,
      reportAgrees: true,
      oneJobRun: true,
    });
    expect(line.received.perAddress['2+']).toBe(0);
    expect(line.ledger.sent + (line.ledger.committed ?? 0)).toBe(1500);
    expect(code).toBe(0);
    console.log(
      `scale-out acceptance: ${line.kills.length} kills, received ${line.received.addresses}, in doubt ${line.inDoubt.length} (${line.inDoubt.filter((r: { received: number }) => !r.received).length} not received), ${line.messagesPerSecond} msg/s`,
    );
  }, 600_000);
});
