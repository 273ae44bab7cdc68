import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { parseCron } from '../../src/scheduler/cron.ts';
import { parseDuration } from '../../src/scheduler/duration.ts';

describe('parseCron', () => {
  it('reads 5 and 6 fields, names, ranges, steps, 7 = Sunday', () => {
    const c = parseCron('0 7 * * *');
    expect([c.seconds, c.minutes, c.hours]).toEqual([[0], [0], [7]]);
    const d = parseCron('*/20 5-10/5 8,20 * jan-mar mon-fri');
    expect(d.seconds).toEqual([0, 20, 40]);
    expect(d.minutes).toEqual([5, 10]);
    expect(d.hours).toEqual([8, 20]);
    expect([...d.months]).toEqual([1, 2, 3]);
    expect([...d.weekdays]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron('0 0 * * 7').weekdays]).toEqual([0]);
    expect(parseCron('5/15 * * * *').minutes).toEqual([5, 20, 35, 50]);
    expect(parseCron('0 0 ? * *').days.size).toBe(31);
  });

  it.each([
    ['* * * *', /expected 5 fields/],
    ['60 * * * *', /minute: 60 is out of range/],
    ['* 24 * * *', /hour: 24 is out of range/],
    ['0 0 L * *', /L, W or #/],
    ['0 0 * * 1#2', /L, W or #/],
    ['0 0 15W * *', /L, W or #/],
    ['0 0 1 * 1', /not both/],
    ['*/0 * * * *', /step "0"/],
    ['10-5 * * * *', /backwards/],
    ['0 0 * foo *', /"foo" is not a number/],
    ['0 0 31 2 *', /never meet on a real date/],
  ])('refuses %s', (expr, msg) => {
    expect(() => parseCron(expr)).toThrow(msg);
  });
});

describe('durations', () => {
  it.each([
    ['2h', 7_200_000],
    ['90m', 5_400_000],
    ['1h30m', 5_400_000],
    ['45s', 45_000],
    ['0', 0],
    ['PT2H', 7_200_000],
    [30, 30_000],
  ] as const)('%s', (v, ms) => expect(parseDuration(v)).toBe(ms));
  it('refuses words', () => expect(parseDuration('soon')).toBeUndefined());
});

describe('jobs in config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bs-sched-cfg-'));
  const file = (text: string) => {
    const f = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, text);
    return f;
  };

  it('defaults: main (by hand), daily 07:00 digest, ingest and publish every 5 minutes, catchUp 2h, zone from the top level', () => {
    const { config } = loadConfig(join(dir, 'none.yaml'), { env: {} });
    const byName = Object.fromEntries(config.jobs.map((j) => [j.name, j]));
    expect(Object.keys(byName)).toEqual(['main', 'daily', 'ingest', 'publish']);
    expect(byName.publish).toMatchObject({ kind: 'publish', cron: '*/5 * * * *' });
    expect(byName.main!.cron).toBeUndefined();
    expect(byName.daily).toMatchObject({
      kind: 'digest',
      edition: 'daily',
      cron: '0 7 * * *',
      catchUp: 7_200_000,
    });
    expect(byName.daily!.timezone).toBeUndefined(); // read in config.timezone, Asia/Hong_Kong
    expect(byName.ingest).toMatchObject({ kind: 'ingest', options: { feeds: [] } });
  });

  it('reports bad cron, zone, catchUp and ingest options with path and line', () => {
    const f = file(
      [
        'jobs:',
        '  - name: a',
        '    kind: build',
        '    cron: "0 25 * * *"',
        '    timezone: Europe/Lndon',
        '    catchUp: later',
        '  - name: b',
        '    kind: ingest',
        '    options:',
        '      feeds: 3',
      ].join('\n'),
    );
    try {
      loadConfig(f, { env: {} });
      expect.unreachable();
    } catch (e) {
      const err = e as { code: string; params: { problems: string[] } };
      expect(err.code).toBe('CONFIG_INVALID');
      const all = err.params.problems.join('\n');
      expect(all).toMatch(/jobs\[0\]\.cron \(line 4\): bad cron expression "0 25 \* \* \*": hour: 25/);
      expect(all).toMatch(/jobs\[0\]\.timezone \(line 5\): not an IANA time zone/);
      expect(all).toMatch(/jobs\[0\]\.catchUp \(line 6\): "later" is not a duration/);
      expect(all).toMatch(/jobs\[1\]\.options\.feeds/);
    }
  });
});
