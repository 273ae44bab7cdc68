import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

// `subscribers import` through the real CLI on a large, messy file: every
// malformed row is reported at its own physical line and skipped, and every
// good row — including the ones an unclosed quote would have swallowed — loads.

const dir = mkdtempSync(join(tmpdir(), 'bs-import-'));
const env = { BROADSHEET_SECRET: 'test-secret-for-tokens-0123456789' };
const run = (args: string[], store: string) => cli([...args, '--store', store], { env });

interface Expected {
  line: number;
  code: string;
}

/**
 * 20,000 good rows; every 997th has a name with a quoted newline (two physical
 * lines) and every 1,009th a quoted comma and a doubled quote, so a line count
 * that ignored quoting would drift. Bad rows are mixed in at fixed places.
 */
function messyCsv() {
  const lines: string[] = ['email,name,locale,topics'];
  const bad: Expected[] = [];
  const warned: Expected[] = [];
  const good: string[] = [];
  // The physical line the next pushed row starts on (a quoted newline adds one).
  let next = 2;
  const push = (row: string) => {
    lines.push(row);
    next += row.split('\n').length;
  };
  const badAt = new Map<number, (i: number) => { text: string; code: string; warn?: boolean }>([
    [10, (i) => ({ text: `stray${i}@example.com,Chan "Tai" Man,zh-Hant-HK,要聞`, code: 'CSV_QUOTE' })],
    // An unclosed quote that pairs with the next quote further down the file.
    [2_000, (i) => ({ text: `open${i}@example.com,"Unclosed name,zh-Hans,科技`, code: 'CSV_QUOTE' })],
    [5_000, (i) => ({ text: `many${i}@example.com,Chan, Tai Man,zh-Hant-HK,要聞`, code: 'CSV_FIELD_COUNT' })],
    [7_500, (i) => ({ text: `few${i}@example.com,Few`, code: 'CSV_FIELD_COUNT' })],
    [9_000, (i) => ({ text: `after${i}@example.com,"Quoted" then text,,`, code: 'CSV_QUOTE' })],
    [12_345, () => ({ text: 'not-an-address,Nobody,,', code: 'CONTENT_FIELD' })],
    [15_000, (i) => ({ text: `fr${i}@example.com,Français,fr-FR,科技`, code: 'CSV_LOCALE', warn: true })],
    // An unclosed quote with no quote after it: it would swallow the rest of the file.
    [19_990, (i) => ({ text: `eof${i}@example.com,"never closed,,`, code: 'CSV_QUOTE' })],
  ]);
  for (let i = 0; i < 20_000; i++) {
    const make = badAt.get(i);
    if (make) {
      const b = make(i);
      (b.warn ? warned : bad).push({ line: next, code: b.code });
      if (b.warn) good.push(`fr${i}@example.com`);
      push(b.text);
    }
    const email = `reader${i}@example.com`;
    good.push(email);
    // Rows after the last unclosed quote carry no quotes, so it runs to the end of the file.
    const plain = i > 19_990;
    if (i % 997 === 0 && !plain) push(`${email},"第一行\n第二行",zh-Hant-HK,要聞;科技`);
    else if (i % 1_009 === 0 && !plain) push(`${email},"Ho, ""Emily""",zh-Hans,數讀`);
    else push(`${email},讀者${i},${i % 2 ? 'zh-Hans' : 'zh-Hant-HK'},要聞`);
  }
  return { text: `${lines.join('\n')}\n`, bad, warned, good };
}

describe('subscribers import: lenient per row, exact lines', () => {
  it('imports exactly the good rows of 20,000 and reports each bad row at its own line', () => {
    const { text, bad, warned, good } = messyCsv();
    const csv = join(dir, 'messy.csv');
    const store = join(dir, 'messy.db');
    writeFileSync(csv, text);

    const r = run(['subscribers', 'import', csv, '--json'], store);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as {
      added: number;
      invalid: number;
      localeDropped: number;
      problems: { line: number; code: string }[];
    };
    expect(out.problems.map((p) => ({ line: p.line, code: p.code }))).toEqual(
      [...bad, ...warned].sort((a, b) => a.line - b.line),
    );
    expect(out.invalid).toBe(bad.length);
    expect(out.localeDropped).toBe(1);
    expect(out.added).toBe(good.length);

    const db = new Database(store, { readonly: true });
    try {
      const emails = (
        db.prepare('SELECT email FROM subscribers ORDER BY id').all() as { email: string }[]
      ).map((x) => x.email);
      expect(emails).toEqual(good);
      const get = db.prepare('SELECT name, locale FROM subscribers WHERE email = ?');
      expect(get.get('reader997@example.com')).toEqual({ name: '第一行 第二行', locale: 'zh-Hant-HK' });
      expect(get.get('reader1009@example.com')).toEqual({ name: 'Ho, "Emily"', locale: 'zh-Hans' });
      expect(get.get('fr15000@example.com')).toEqual({ name: 'Français', locale: null });
      // The rows right after each unclosed quote were read again, not swallowed.
      expect(get.get('reader2000@example.com')).toBeTruthy();
      expect(get.get('reader19999@example.com')).toBeTruthy();
    } finally {
      db.close();
    }
  }, 120_000);

  it('prints each report as file:line with its code on a terminal-less run', () => {
    const csv = join(dir, 'small.csv');
    writeFileSync(
      csv,
      [
        'email,name,locale,topics',
        'a@example.com,"A\nB",zh-Hans,',
        'b@example.com,B"x,,',
        'c@example.com,C,,',
      ].join('\r\n'),
    );
    const r = run(['subscribers', 'import', csv], join(dir, 'small.db'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/small\.csv:4 → .*\n.*\[CSV_QUOTE\]/);
    expect(r.stdout).toMatch(/2 added, .*1 invalid row\(s\) skipped/);
  });

  it('exits 0 when every row was imported as written', () => {
    const csv = join(dir, 'clean.csv');
    writeFileSync(csv, '\ufeffEmail,Locale\r\nx@example.com,ZH-HANS\r\n\r\ny@example.com,\r\n');
    const store = join(dir, 'clean.db');
    const r = run(['subscribers', 'import', csv], store);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const db = new Database(store, { readonly: true });
    expect(db.prepare('SELECT email, locale FROM subscribers ORDER BY id').all()).toEqual([
      { email: 'x@example.com', locale: 'zh-Hans' },
      { email: 'y@example.com', locale: null },
    ]);
    db.close();
  });

  it('refuses a file without an email column (exit 2, nothing imported)', () => {
    const csv = join(dir, 'nohead.csv');
    writeFileSync(csv, 'a@example.com,A,,\nb@example.com,B,,\n');
    const store = join(dir, 'nohead.db');
    const r = run(['subscribers', 'import', csv, '--json'], store);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SUBSCRIBERS_CSV_HEADER');
  });
});
