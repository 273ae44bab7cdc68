import { describe, expect, it } from 'vitest';
import { readCsvRecords } from '../../src/content/csv.ts';
import { parseSubscribersCsv } from '../../src/content/subscribers.ts';

// The CSV reader's line numbers are physical lines of the file, whatever the
// line endings, a BOM, quoted newlines or blank lines before them.

const rows = (text: string) => {
  const r = readCsvRecords(text);
  return {
    rows: r.rows.map((x) => [x.line, x.fields[0]]),
    faults: r.faults.map((f) => [f.line, f.code]),
  };
};

describe('readCsvRecords', () => {
  it.each([
    ['\n', 'LF'],
    ['\r\n', 'CRLF'],
    ['\r', 'CR'],
  ])('counts physical lines with %j endings (%s)', (eol) => {
    const text = [
      '\ufeffemail,name',
      'a@x.io,"one',
      'two"',
      '',
      ',',
      'b@x.io,B"x',
      'c@x.io,C',
      'd@x.io,"D',
    ].join(eol);
    expect(rows(text)).toEqual({
      rows: [
        [2, 'a@x.io'],
        [7, 'c@x.io'],
      ],
      faults: [
        [6, 'CSV_QUOTE'],
        [8, 'CSV_QUOTE'],
      ],
    });
  });

  it('re-reads the rows an unclosed quote ran over, from the next line', () => {
    const text = 'email,name\na@x.io,"A\nb@x.io,B\nc@x.io,"C"\nd@x.io,D\n';
    expect(rows(text)).toEqual({
      rows: [
        [3, 'b@x.io'],
        [4, 'c@x.io'],
        [5, 'd@x.io'],
      ],
      faults: [[2, 'CSV_QUOTE']],
    });
  });

  it('reports a multi-line record with the wrong field count at its first line and re-reads the rest', () => {
    const text = 'email,name\na@x.io,"A\nb@x.io,B",extra\nc@x.io,C\n';
    expect(rows(text)).toEqual({
      // Line 3 read on its own has a stray quote: reported too, never merged into line 2.
      rows: [[4, 'c@x.io']],
      faults: [
        [2, 'CSV_FIELD_COUNT'],
        [3, 'CSV_QUOTE'],
      ],
    });
  });
});

describe('parseSubscribersCsv', () => {
  it('accepts columns in any order, canonicalises locales, and keeps a reader whose locale is unknown', () => {
    const r = parseSubscribersCsv('Locale,EMAIL,extra\nZH-hant-hk,A@X.io,1\nen,b@x.io,2\n', 't.csv');
    expect(r.rows.map((x) => [x.line, x.email, x.locale])).toEqual([
      [2, 'a@x.io', 'zh-Hant-HK'],
      [3, 'b@x.io', undefined],
    ]);
    expect(r.warnings).toMatchObject([{ code: 'CSV_LOCALE', line: 3, field: 'locale' }]);
    expect(r.problems).toEqual([]);
  });

  it.each([
    ['', 'the file is empty'],
    ['name,locale\nx,y\n', 'no "email" column'],
    ['email,"name\nx@y.io,n\n', 'line 1'],
    ['email,Email\nx@y.io,n\n', 'named twice'],
  ])('refuses a file without a usable header: %j', (text, detail) => {
    expect(() => parseSubscribersCsv(text, 't.csv')).toThrow(
      expect.objectContaining({ code: 'SUBSCRIBERS_CSV_HEADER', message: expect.stringContaining(detail) }),
    );
  });
});
