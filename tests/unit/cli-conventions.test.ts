import { describe, expect, it } from 'vitest';
import { envFileProblems } from '../../src/config/dotenv.ts';
import { senderDomain, withSenderIdentity } from '../../src/config/identity.ts';
import { configSchema } from '../../src/config/schema.ts';
import { colorEnabled, formatRecord } from '../../src/log-format.ts';
import { formatEta, formatRate, rateMeter } from '../../src/progress.ts';
import { isCI } from '../helpers/system.ts';

const ESC = '\u001b[';
const at = new Date(2025, 11, 10, 12, 0, 1).getTime(); // local 12:00:01, as the terminal shows it

describe('terminal log lines', () => {
  it('puts one event on one line, fields inline, without pid/hostname', () => {
    const line = formatRecord(
      {
        level: 30,
        time: at,
        pid: 1,
        hostname: 'h',
        msg: 'send: delivered',
        edition: 'daily-2025-12-10',
        sent: 5,
      },
      { colors: false },
    );
    expect(line).toBe('12:00:01 INFO send: delivered edition=daily-2025-12-10 sent=5');
  });

  it('quotes values with spaces, skips nulls, keeps nested objects on the line', () => {
    const line = formatRecord(
      {
        level: 40,
        time: at,
        msg: 'm',
        file: '/a b/c',
        occurrence: null,
        counts: { articles: 4, cards: 234 },
      },
      { colors: false },
    );
    expect(line).toBe('12:00:01 WARN m file="/a b/c" counts={articles:4,cards:234}');
    expect(line).not.toContain('\n');
    const long = {
      edition: 'daily-2025-12-10',
      transport: 'outbox',
      total: 5000,
      sent: 4990,
      failed: 10,
      deferred: 0,
      retried: 3,
      suppressed: 0,
      bytes: 340110,
    };
    expect(formatRecord({ level: 30, time: at, msg: 'm', summary: long }, { colors: false })).toBe(
      '12:00:01 INFO m summary={…9 fields}',
    );
  });

  it('shows an error by its message and code; the stack only with DEBUG', () => {
    const rec = {
      level: 50,
      time: at,
      msg: 'job failed',
      err: { message: 'boom', code: 'SMTP_AUTH', stack: 'Error: boom\n    at x' },
    };
    expect(formatRecord(rec, { colors: false })).toBe('12:00:01 ERROR job failed err="boom (SMTP_AUTH)"');
    expect(formatRecord(rec, { colors: false, debug: true })).toContain('\n        at x');
  });

  it('colours only when asked', () => {
    const rec = { level: 30, time: at, msg: 'x', a: 1 };
    expect(formatRecord(rec, { colors: false })).not.toContain(ESC);
    expect(formatRecord(rec, { colors: true })).toContain(`${ESC}32mINFO`);
  });

  it('follows NO_COLOR and FORCE_COLOR', () => {
    expect(colorEnabled(true, {})).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: '' })).toBe(true); // no-color.org: only a non-empty value counts
    expect(colorEnabled(true, { TERM: 'dumb' })).toBe(false);
    expect(colorEnabled(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(false, { FORCE_COLOR: '' })).toBe(true);
    expect(colorEnabled(true, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(true, { FORCE_COLOR: 'false' })).toBe(false);
    expect(colorEnabled(true, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true); // as in Node: FORCE_COLOR wins
  });
});

describe('progress rate and ETA', () => {
  it('shows – until there is something to measure, never Infinity or NaN', () => {
    const m = rateMeter(100);
    expect(m.rate(0)).toEqual({ perSecond: undefined, etaSeconds: undefined });
    m.update(1, 5_000); // the first item after a slow start-up (workers, connections)
    expect(m.rate(5_000).perSecond).toBeUndefined();
    m.update(5, 5_100); // four more in 100 ms: too short a window to trust
    expect(m.rate(5_100).perSecond).toBeUndefined();
    expect(formatRate(undefined)).toBe('–');
    expect(formatEta(undefined)).toBe('–');
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe('–');
  });

  it('measures from the first finished item, so start-up does not inflate the ETA', () => {
    const m = rateMeter(234);
    m.update(1, 5_000);
    m.update(21, 6_000); // 20 items in the second after the first
    const r = m.rate(6_000);
    expect(r.perSecond).toBe(20);
    expect(r.etaSeconds).toBeCloseTo(213 / 20);
    expect(formatEta(r.etaSeconds)).toBe('11s');
    expect(formatRate(r.perSecond)).toBe('20/s');
    expect(formatEta(125)).toBe('2m05s');
    expect(formatEta(3 * 3600 + 7 * 60)).toBe('3h07m');
  });
});

describe('.env checking', () => {
  it('accepts what .env.example and Node accept', () => {
    expect(envFileProblems('# c\n\nA=1\nexport B="two words"\nC=\nD=\'x\'\nE="multi\nline"\n')).toEqual([]);
  });

  it('names each line Node would silently skip, and an unclosed quote', () => {
    expect(envFileProblems('A=1\nthis is not valid\nB="open\nC=3\n')).toEqual([
      'line 2: expected KEY=value, found "this is not valid"',
      'line 3: the " quote is never closed',
    ]);
  });
});

describe('sender identity from brand and publicUrl', () => {
  const derive = (o: Record<string, unknown>) => configSchema.parse(o);

  it('keeps the sample sender on the embedded defaults', () => {
    const c = derive({});
    expect(c.email.from).toBe('大公報每日簡報 <digest@news.example.com>');
    expect(c.delivery.domain).toBe('news.example.com');
  });

  it('rebrands from brand.name and publicUrl alone', () => {
    const c = derive({ brand: { name: '明報' }, publicUrl: 'https://news.mingpao.example/' });
    expect(c.email.from).toBe('明報每日簡報 <digest@news.mingpao.example>');
    expect(c.delivery.domain).toBe('news.mingpao.example');
  });

  it('drops www., quotes a name with specials, and uses punycode for an IDN host', () => {
    expect(
      derive({ brand: { name: 'The Daily, Inc.' }, publicUrl: 'https://www.daily.example/x/' }).email.from,
    ).toBe('"The Daily, Inc.每日簡報" <digest@daily.example>');
    expect(derive({ publicUrl: 'https://明報.example/' }).delivery.domain).toMatch(
      /^xn--[a-z0-9-]+\.example$/,
    );
  });

  it('falls back to brand.url when publicUrl is an address or a single label', () => {
    expect(
      senderDomain({ publicUrl: 'http://127.0.0.1:8080/', brand: { url: 'https://mingpao.example/' } }),
    ).toBe('mingpao.example');
    expect(
      senderDomain({ publicUrl: 'http://localhost:8080/', brand: { url: 'https://news.example.com/' } }),
    ).toBe('news.example.com');
  });

  it('never overrides what the file sets', () => {
    const c = derive({ email: { from: 'Ops <ops@corp.example>' }, publicUrl: 'https://x.example/' });
    expect(c.email.from).toBe('Ops <ops@corp.example>');
    expect(c.delivery.domain).toBe('corp.example');
    const d = withSenderIdentity({
      publicUrl: 'https://x.example/',
      brand: { name: 'N', url: 'https://x.example/' },
      editions: { daily: { title: 'T' } },
      email: {},
      delivery: { domain: 'mail.x.example' },
    });
    expect(d.delivery.domain).toBe('mail.x.example');
    expect(d.email.from).toBe('NT <digest@x.example>');
  });
});

describe('needs() and CI', () => {
  it('counts only CI=true as CI', () => {
    expect(isCI({ CI: 'true' })).toBe(true);
    for (const v of ['1', 'false', '0', '', 'TRUE', undefined]) expect(isCI({ CI: v })).toBe(false);
  });
});
