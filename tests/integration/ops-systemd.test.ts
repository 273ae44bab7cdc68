// The systemd units in deploy/systemd (issue 17): they parse (systemd-analyze
// verify, when the machine has it, with no warning at all), are hardened, stop
// gracefully within a TimeoutStopSec that matches the command's own grace, and
// name commands and flags the CLI really has. The EnvironmentFile example
// holds no secret.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from '../helpers/cli.ts';

const DIR = join(ROOT, 'deploy/systemd');
const UNITS = ['broadsheet-schedule.service', 'broadsheet-worker.service', 'broadsheet-serve.service'];

/** section → key → values (a key may repeat: EnvironmentFile). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      out[section] = {};
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`not a unit line: ${line}`);
    const values = out[section]![kv[1]!] ?? [];
    values.push(kv[2]!);
    out[section]![kv[1]!] = values;
  }
  return out;
}

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('deploy/systemd', () => {
  it('holds the three units and an environment example', () => {
    expect(readdirSync(DIR).sort()).toEqual([...UNITS, 'broadsheet.env.example'].sort());
  });

  it.each(UNITS)('%s: hardened, restarts on failure (not on bad config), stops gracefully', (name) => {
    const u = parseUnit(readFileSync(join(DIR, name), 'utf8'));
    const s = u.Service!;
    expect(Object.keys(u).sort()).toEqual(['Install', 'Service', 'Unit']);
    expect(s.User).toEqual(['broadsheet']);
    for (const [k, v] of Object.entries({
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      Restart: 'on-failure',
      RestartPreventExitStatus: '2',
      KillSignal: 'SIGTERM',
      CapabilityBoundingSet: '',
    }))
      expect(s[k], k).toEqual([v]);
    expect(s.ReadWritePaths).toEqual(['/var/lib/broadsheet']);
    expect(s.EnvironmentFile).toEqual(['/etc/broadsheet/broadsheet.env', '-/etc/broadsheet/secrets.env']);
    const exec = s.ExecStart![0]!.split(/\s+/);
    expect(exec.slice(0, 2)).toEqual(['/usr/bin/node', '/opt/broadsheet/bin/broadsheet.js']);
    const stop = Number(s.TimeoutStopSec![0]);
    if (exec[2] === 'schedule') {
      // The daemon's grace plus time to record interrupted runs and leave.
      const grace = Number(exec[exec.indexOf('--grace') + 1]);
      expect(stop).toBeGreaterThan(grace);
      expect(stop).toBeLessThanOrEqual(grace + 60);
    } else expect(stop).toBeGreaterThanOrEqual(30);
    expect(u.Install!.WantedBy).toEqual(['multi-user.target']);
  });

  it.each(UNITS)('%s: its command and every flag exist in the CLI', (name) => {
    const u = parseUnit(readFileSync(join(DIR, name), 'utf8'));
    const [, , command, ...rest] = u.Service!.ExecStart![0]!.split(/\s+/);
    expect(name).toBe(`broadsheet-${command}.service`);
    const help = cli([command!, '--help']);
    expect(help.code, help.stderr).toBe(0);
    const globals = cli(['--help']).stdout;
    for (const flag of rest.filter((a) => a.startsWith('--')))
      expect(`${help.stdout}\n${globals}`, `${command} ${flag}`).toContain(`${flag} `);
  });

  it('the environment example holds no secret values', () => {
    const text = readFileSync(join(DIR, 'broadsheet.env.example'), 'utf8');
    const set = text
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0]);
    expect(set).toContain('DATABASE_URL');
    for (const secret of ['BROADSHEET_SECRET', 'PGPASSWORD', 'SMTP_URL', 'BROADSHEET_EDITOR_PASSWORD'])
      expect(set).not.toContain(secret);
    const url = /^DATABASE_URL=(.*)$/m.exec(text)![1]!;
    expect(new URL(url).password).toBe('');
    expect(new URL(url).searchParams.get('sslmode')).toBe('verify-full');
  });

  it.skipIf(!hasAnalyze)('systemd-analyze verify: no error, no warning', () => {
    // The units name /opt/broadsheet and /etc/broadsheet; verify checks that the
    // executable and files exist, so it reads copies pointed at this checkout.
    const tmp = mkdtempSync(join(tmpdir(), 'bs-units-'));
    try {
      writeFileSync(join(tmp, 'broadsheet.env'), '');
      for (const n of UNITS)
        writeFileSync(
          join(tmp, n),
          readFileSync(join(DIR, n), 'utf8')
            .replaceAll('/opt/broadsheet', ROOT)
            .replaceAll('/etc/broadsheet/broadsheet.env', join(tmp, 'broadsheet.env')),
        );
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...UNITS.map((n) => `./${n}`)], {
        cwd: tmp,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.trim()).toBe('');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
