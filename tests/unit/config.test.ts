import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSecrets } from '../../src/config/env.ts';
import { loadConfig } from '../../src/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'bs-config-'));
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('loadConfig', () => {
  it('uses the embedded defaults when the default file is absent', () => {
    const { config, file: used } = loadConfig(join(dir, 'none.yaml'), { env: {} });
    expect(used).toBeUndefined();
    expect(config.timezone).toBe('Asia/Hong_Kong');
    expect(config.locale).toBe('zh-Hant-HK');
    expect(Object.keys(config.editions)).toEqual(['daily']);
    expect(config.jobs.map((j) => j.name)).toContain('main');
  });

  it('refuses a missing file named explicitly', () => {
    expect(() => loadConfig(join(dir, 'none.yaml'), { explicit: true, env: {} })).toThrow(
      expect.objectContaining({ code: 'CONFIG_UNREADABLE' }),
    );
  });

  it('reports every problem with its path and line', () => {
    const f = file(
      'bad.yaml',
      'timezone: Mars/Olympus\neditions:\n  daily:\n    maxArticles: "ten"\nbrand:\n  colors:\n    primary: red\n',
    );
    try {
      loadConfig(f, { env: {} });
      expect.unreachable();
    } catch (e) {
      const err = e as { code: string; params: { problems: string[] } };
      expect(err.code).toBe('CONFIG_INVALID');
      const all = err.params.problems.join('\n');
      expect(all).toMatch(/timezone \(line 1\): not an IANA time zone/);
      expect(all).toMatch(/editions\.daily\.maxArticles \(line 4\): expected number, received "ten"/);
      expect(all).toMatch(/brand\.colors\.primary \(line 7\)/);
    }
  });

  it('refuses secrets in the file and names the env variable to use', () => {
    const f = file('secret.yaml', 'smtp:\n  password: hunter2\n');
    expect(() => loadConfig(f, { env: {} })).toThrow(
      /smtp\.password: secrets are not read from files; set SMTP_URL/,
    );
  });

  it('lets env override the file', () => {
    const f = file('ok.yaml', 'publicUrl: https://a.example/\n');
    const { config } = loadConfig(f, {
      env: { BROADSHEET_PUBLIC_URL: 'https://b.example/x/', BROADSHEET_TIMEZONE: 'Europe/London' },
    });
    expect(config.publicUrl).toBe('https://b.example/x/');
    expect(config.timezone).toBe('Europe/London');
  });

  it('checks that jobs name configured editions', () => {
    const f = file('jobs.yaml', 'jobs:\n  - name: main\n    kind: digest\n    edition: weekly\n');
    expect(() => loadConfig(f, { env: {} })).toThrow(/jobs\[0\]\.edition.*unknown edition "weekly"/);
  });

  it('reports YAML syntax errors with a line', () => {
    const f = file('syntax.yaml', 'brand:\n  name: [unclosed\n');
    expect(() => loadConfig(f, { env: {} })).toThrow(/line \d+/);
  });

  it('loads the committed broadsheet.config.yaml', () => {
    const { config } = loadConfig(join(import.meta.dirname, '../../broadsheet.config.yaml'), {
      explicit: true,
      env: {},
    });
    expect(config.brand.name).toBe('大公報');
  });
});

describe('readSecrets', () => {
  it('reads secrets only from the environment, ignoring blanks', () => {
    expect(readSecrets({ SMTP_URL: 'smtp://u:p@127.0.0.1:2525', BROADSHEET_SECRET: '  ' })).toEqual({
      smtpUrl: 'smtp://u:p@127.0.0.1:2525',
      secret: undefined,
      editorPassword: undefined,
      dkimPrivateKeyFile: undefined,
    });
  });
});
