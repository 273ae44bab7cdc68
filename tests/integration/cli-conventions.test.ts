import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { BIN, cli, ROOT } from '../helpers/cli.ts';
import { fewCardsConfig, fewCardsText } from '../helpers/few-cards.ts';
import { seedOut } from '../helpers/prebuilt.ts';
import { needs } from '../helpers/system.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'bs-conv-'));
const CONTENT = join(ROOT, 'content');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
/** No colour or format settings from the shell running the tests. */
const plainEnv = { NO_COLOR: undefined, FORCE_COLOR: undefined, LOG_FORMAT: undefined, SMTP_URL: undefined };

/** A store with five readers in it (addresses on a reserved .test domain). */
function storeWithReaders(dir: string, config?: string): string {
  const store = join(dir, 'db.sqlite');
  const csv = join(dir, 'readers.csv');
  writeFileSync(
    csv,
    `email,name,locale,topics\n${[1, 2, 3, 4, 5].map((i) => `reader${i}@readers.test,讀者${i},zh-Hant-HK,`).join('\n')}\n`,
  );
  const r = cli(['subscribers', 'import', csv, '--store', store, ...(config ? ['--config', config] : [])]);
  expect(r.code, r.stderr).toBe(0);
  return store;
}

describe('version and help', () => {
  it('--version prints the package version', () => {
    const r = cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it("every command's --help lists the global options", () => {
    const top = cli(['--help']);
    expect(top.code).toBe(0);
    const names = [...top.stdout.split('Commands:')[1]!.matchAll(/^ {2}([a-z-]+)/gm)]
      .map((m) => m[1]!)
      .filter((n) => n !== 'help');
    expect(names).toEqual(expect.arrayContaining(['check', 'build', 'send', 'run', 'subscribers']));
    for (const name of names) {
      const r = cli([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(
        /Global Options:[\s\S]*--config <file>[\s\S]*--store <file>[\s\S]*--json/,
      );
    }
  }, 240_000);
});

describe('.env in the working folder', () => {
  // SMTP_URL makes `check` warn about the sample sender domain: a visible sign
  // that the variable was read, and from which source.
  const checkJson = (cwd: string, env: NodeJS.ProcessEnv = {}) =>
    cli(['check', '--content', CONTENT, '--json'], {
      cwd,
      env: { ...plainEnv, BROADSHEET_PUBLIC_URL: undefined, ...env },
    });
  const warnings = (stdout: string) =>
    (JSON.parse(stdout) as { warnings: { code: string }[] }).warnings.map((w) => w.code);

  it('is loaded when present', () => {
    const dir = tmp();
    expect(warnings(checkJson(dir).stdout)).toEqual([]);
    writeFileSync(join(dir, '.env'), '# as in .env.example\nSMTP_URL=smtp://u:p@127.0.0.1:2525\n');
    const r = checkJson(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stdout)).toEqual(['SENDER_SAMPLE_DOMAIN']);
  });

  it('loses to the real environment', () => {
    const dir = tmp();
    writeFileSync(
      join(dir, '.env'),
      'SMTP_URL=smtp://127.0.0.1:2525\nBROADSHEET_PUBLIC_URL=https://news.mingpao.example/\n',
    );
    expect(warnings(checkJson(dir).stdout)).toEqual([]); // the file's own site: no warning
    const r = checkJson(dir, { BROADSHEET_PUBLIC_URL: 'https://news.example.com/' });
    expect(warnings(r.stdout)).toEqual(['SENDER_SAMPLE_DOMAIN']); // the real env's sample site won
  });

  it('refuses a malformed file, naming it and the line', () => {
    const dir = tmp();
    writeFileSync(join(dir, '.env'), 'SMTP_URL=smtp://127.0.0.1:2525\nBROADSHEET SECRET = oops\n');
    const r = cli(['check', '--content', CONTENT], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ENV_FILE_INVALID');
    expect(r.stderr).toContain(join(dir, '.env'));
    expect(r.stderr).toContain('line 2');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('no command ends with exit 13', () => {
  // tests/fixtures/cli/broken-bin.js is bin/broadsheet.js with faults planted.
  const broken = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'tests/fixtures/cli/broken-bin.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, DEBUG: '', ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('reports a command whose promise never settles as INTERNAL, exit 1', () => {
    const r = broken(['never-settles']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error INTERNAL: command ended with work still pending/m);
    expect(r.stderr).toContain('never-settles');
  });

  it('reports a stray rejection or exception as INTERNAL, exit 1, without a raw stack', () => {
    for (const cmd of ['stray-rejection', 'stray-throw']) {
      const r = broken([cmd]);
      expect(r.code, cmd).toBe(1);
      expect(r.stderr, cmd).toMatch(/^error INTERNAL: /m);
      expect(r.stderr, cmd).toMatch(/caused by: (nobody awaited this|thrown from a timer)/);
      expect(r.stderr, cmd).not.toMatch(/\n\s+at /);
    }
  });

  it('ends quietly when the reader of stdout goes away (| head)', () => {
    const dir = tmp();
    const csv = join(dir, 'many.csv');
    const rows = Array.from({ length: 5000 }, (_, i) => `reader${i}@readers.test,讀者${i}`);
    writeFileSync(csv, `email,name\n${rows.join('\n')}\n`);
    const store = join(dir, 'db.sqlite');
    expect(cli(['subscribers', 'import', csv, '--store', store]).code).toBe(0);
    // more than a pipe buffer of output, and a reader that stops after one line
    const r = spawnSync(
      'bash',
      [
        '-c',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash script, not a template
        'node "$0" subscribers list --store "$1" 2>"$2" | head -1; echo "exit=${PIPESTATUS[0]}"',
        BIN,
        store,
        join(dir, 'err'),
      ],
      {
        cwd: ROOT,
        env: { ...process.env, DEBUG: '', LOG_LEVEL: 'error', BROADSHEET_SECRET: 'x'.repeat(32) },
        encoding: 'utf8',
      },
    );
    expect(r.stdout).toMatch(/^reader\d+@readers\.test/);
    expect(r.stdout).toContain('exit=0');
    expect(readFileSync(join(dir, 'err'), 'utf8')).toBe('');
  });

  it('ends a send whose transport never settles with a named error, exit 1', () => {
    const dir = tmp();
    const config = join(dir, 'c.yaml');
    writeFileSync(config, 'delivery:\n  messageTimeoutMs: 300\n');
    const store = storeWithReaders(dir, config);
    // A staged digest (stagedOut, below): this is about the transport, not the render.
    const r = broken(['send', '--config', config, '--store', store, '--out', stagedOut(dir)]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error (SEND_TIMEOUT|INTERNAL): /m);
  }, 240_000);
});

describe('rebranding from the config alone', () => {
  it('sends from the brand and publicUrl: From, List-Id, Message-ID and mailto all follow', async () => {
    const dir = tmp();
    const config = join(dir, 'c.yaml');
    writeFileSync(config, 'publicUrl: https://news.mingpao.example/\nbrand:\n  name: 明報\n');
    const store = storeWithReaders(dir, config);
    const out = join(dir, 'out');
    const r = cli(['send', '--config', config, '--store', store, '--out', out, '--content', CONTENT], {
      env: { ...plainEnv, BROADSHEET_PUBLIC_URL: undefined },
    });
    expect(r.code, r.stderr).toBe(0);
    const box = join(out, 'daily-2025-12-10', 'outbox');
    const files = readdirSync(box).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(5);
    const raw = readFileSync(join(box, files[0]!));
    const m = await simpleParser(raw);
    expect(m.from?.value[0]).toEqual({ name: '明報每日簡報', address: 'digest@news.mingpao.example' });
    expect(raw.toString('latin1')).toMatch(/^List-Id: .*<daily\.news\.mingpao\.example>\r$/m);
    expect(m.messageId).toMatch(/@news\.mingpao\.example>$/);
    const unsub = raw.toString('latin1').match(/^List-Unsubscribe: ([\s\S]*?)\r\n(?! )/m)![1]!;
    expect(unsub).toContain('<mailto:unsubscribe@news.mingpao.example?');
    expect(unsub).toContain('<https://news.mingpao.example/');
    const head = raw.toString('latin1').split('\r\n\r\n')[0]!;
    expect(head).not.toContain('example.com');
  }, 240_000);

  it('check warns when a real transport still sends as the sample', () => {
    const env = { ...plainEnv, BROADSHEET_PUBLIC_URL: undefined, SMTP_URL: 'smtp://127.0.0.1:2525' };
    const sample = cli(['check'], { env });
    expect(sample.code).toBe(0);
    expect(sample.stderr).toMatch(/^warning SENDER_SAMPLE_DOMAIN: .*news\.example\.com/m);
    const rebranded = cli(['check'], {
      env: { ...env, BROADSHEET_PUBLIC_URL: 'https://news.mingpao.example/' },
    });
    expect(rebranded.code).toBe(0);
    expect(rebranded.stderr).toBe('');
    expect(cli(['check'], { env: { ...env, SMTP_URL: undefined } }).stderr).toBe(''); // outbox: nothing leaves
  }, 240_000);
});

/**
 * What a terminal would show for this output: enough of VT100 for what the
 * CLI writes (CR, LF, erase line/right, column 1, save/restore cursor).
 */
function renderScreen(out: string): string[] {
  const rows: string[] = [''];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const put = (ch: string) => {
    const line = rows[row]!.padEnd(col);
    rows[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (const tok of out.split(/(\u001b\[[0-9;?]*[A-Za-z]|\u001b[78]|\r|\n)/)) {
    if (!tok) continue;
    if (tok === '\r' || tok === '\u001b[1G') col = 0;
    else if (tok === '\n') {
      row++;
      rows[row] ??= '';
    } else if (tok === '\u001b[2K') rows[row] = '';
    else if (tok === '\u001b[0K') rows[row] = rows[row]!.slice(0, col);
    else if (tok === '\u001b7') saved = { row, col };
    else if (tok === '\u001b8') ({ row, col } = saved);
    else if (!tok.startsWith('\u001b')) for (const ch of tok) put(ch);
  }
  return rows;
}

const SGR_COLOUR = /\u001b\[(2|3[0-9]|1;31)m/;
const strip = (s: string) =>
  s
    .replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[78]/g, '')
    .replace(/\r/g, '')
    .split('\n');

/**
 * An out/ folder holding the sample's staged digest (built once per test run
 * with the repository's config and few cards), for sends that test something
 * else — logs, a hung transport: `send` takes the staged digest instead of
 * rendering one from content/ (src/delivery/edition.ts). For the log tests'
 * sends only the cards section differs, which no digest reads.
 */
function stagedOut(dir: string, name = 'out'): string {
  const out = join(dir, name);
  seedOut(out, fewCardsText());
  return out;
}

describe('logs for people and for machines', () => {
  it('writes JSON lines when not on a terminal, pretty lines with LOG_FORMAT=pretty', () => {
    const dir = tmp();
    const store = storeWithReaders(dir);
    stagedOut(dir, 'o1');
    stagedOut(dir, 'o2');
    const json = cli(['send', '--dry-run', '--store', store, '--out', join(dir, 'o1')], { env: plainEnv });
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();

    const send = (env: NodeJS.ProcessEnv) =>
      cli(['send', '--store', store, '--out', join(dir, 'o2')], {
        env: { ...plainEnv, LOG_FORMAT: 'pretty', ...env },
      });
    const forced = send({ FORCE_COLOR: '1' });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(SGR_COLOUR);
    const plain = send({ NO_COLOR: '1' });
    expect(plain.stderr).not.toMatch(SGR_COLOUR);
    expect(plain.stderr).toMatch(
      /^\d\d:\d\d:\d\d INFO sending daily-2025-12-10: 0 message\(s\) through outbox edition=daily-2025-12-10 transport=outbox queued=0/m,
    );
  }, 240_000);
});

describe('log settings', () => {
  it('refuses an unknown LOG_LEVEL or LOG_FORMAT by name, exit 2', () => {
    for (const [name, value] of [
      ['LOG_LEVEL', 'verbose'],
      ['LOG_FORMAT', 'xml'],
    ] as const) {
      const r = cli(['check'], { env: { ...plainEnv, [name]: value } });
      expect(r.code, name).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error ENV_VALUE_INVALID: ${name}="${value}"`, 'm'));
    }
  });
});

describe.skipIf(!needs('script', 'bsdutils'))('on a terminal (a pseudo-terminal from script(1))', () => {
  /** Run the CLI with stdout and stderr on one pseudo-terminal, as a person at a shell would. */
  const onTerminal = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, DEBUG: '', LOG_LEVEL: 'info', TERM: 'xterm-256color', ...plainEnv, ...env },
      encoding: 'utf8',
      timeout: 240_000,
    });
    return { code: r.status, out: r.stdout };
  };

  it('prints one readable line per event, in colour, and the summary once', () => {
    const dir = tmp();
    const store = storeWithReaders(dir);
    const r = onTerminal(['send', '--store', store, '--out', stagedOut(dir)]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(SGR_COLOUR);
    const lines = strip(r.out);
    expect(lines).toContain(
      lines.find((l) =>
        /^\d\d:\d\d:\d\d INFO sending daily-2025-12-10: 5 message\(s\) through outbox edition=daily-2025-12-10 transport=outbox queued=5/.test(
          l,
        ),
      ),
    );
    // pino-pretty's default put each field on its own indented line
    expect(lines.filter((l) => /^\s+\S+: /.test(l))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('daily-2025-12-10 via outbox: sent 5'))).toHaveLength(1);
  }, 240_000);

  it('has no colour with NO_COLOR or FORCE_COLOR=0', () => {
    for (const env of [{ NO_COLOR: '1' }, { FORCE_COLOR: '0' }]) {
      const dir = tmp();
      const store = storeWithReaders(dir);
      const r = onTerminal(['send', '--store', store, '--out', stagedOut(dir)], env);
      expect(r.code, r.out).toBe(0);
      expect(r.out, JSON.stringify(env)).not.toMatch(SGR_COLOUR);
      expect(strip(r.out).some((l) => /^\d\d:\d\d:\d\d (INFO|WARN) /.test(l))).toBe(true);
    }
  }, 240_000);

  it('writes log lines above a progress bar, never into it or over each other', () => {
    const cmd = `'${process.execPath}' '${join(ROOT, 'tests/fixtures/cli/bar-with-warnings.js')}'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', TERM: 'xterm-256color', ...plainEnv, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stdout).toBe(0);
    const screen = renderScreen(r.stdout).filter((l) => l.trim());
    expect(screen.map((l) => l.replace(/^\d\d:\d\d:\d\d /, '').replace(/\[[█░]+\].*/, '[bar]'))).toEqual([
      'INFO before the bar',
      'WARN deferred 2 recipient=r2@readers.test',
      'WARN deferred 4 recipient=r4@readers.test',
      'send [bar]',
      'INFO after the bar',
    ]);
    expect(screen[3]).toMatch(/6\/6 .* done \| sent 6$/);
  });

  it('npm start’s job shows each summary once', () => {
    const dir = tmp();
    const r = onTerminal([
      'run',
      'main',
      '--force',
      // Few cards: this is about the summaries; run-main.test.ts runs the
      // full sample as `npm start` does.
      '--config',
      fewCardsConfig(dir),
      '--store',
      join(dir, 'db.sqlite'),
      '--out',
      join(dir, 'out'),
    ]);
    expect(r.code, r.out).toBe(0);
    const lines = strip(r.out);
    const once = (re: RegExp) =>
      expect(
        lines.filter((l) => re.test(l)),
        String(re),
      ).toHaveLength(1);
    once(/built daily-2025-12-10 → /);
    once(/daily-2025-12-10 via outbox: sent 5/);
    once(/\.eml files → /);
    // the cards bar never showed a runaway or undefined estimate
    expect(r.out).not.toMatch(/Infinity|NaN|ETA \d+h/);
  }, 240_000);
});
