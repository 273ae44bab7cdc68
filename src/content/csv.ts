import { CsvError, parse } from 'csv-parse/sync';

// Lenient CSV reading, one record at a time, with exact physical lines.
//
// csv-parse does the quoting; this file decides what a broken record costs:
// - every record knows the physical line it starts on, computed from byte
//   offsets (so a quoted newline in an earlier row never shifts later lines);
// - a record with a quote error (a stray quote in an unquoted field, text after
//   a closing quote, a quote never closed) is reported at the line it starts on
//   and skipped, and reading starts again on the NEXT physical line. An
//   unclosed quote therefore costs its own line only: the rows it would have
//   swallowed up to the next quote (or to the end of the file) are read again
//   as rows of their own;
// - a record with the wrong number of fields is reported and skipped; when it
//   spans several lines (a quote that paired with one further down), reading
//   also starts again on the line after its first, for the same reason.
// Reading restarts from a byte offset, so each bad row costs at most one extra
// pass over the rest of the file.

export interface CsvRecord {
  fields: string[];
  /** Physical line (1-based) the record starts on. */
  line: number;
  /** Physical line the record ends on (> line when a quoted field holds a newline). */
  endLine: number;
}

export type CsvFaultCode = 'CSV_QUOTE' | 'CSV_FIELD_COUNT' | 'CSV_SYNTAX';

export interface CsvFault {
  code: CsvFaultCode;
  line: number;
  message: string;
  hint: string;
}

export interface CsvRead {
  /** The first non-blank record (undefined for an empty file). */
  header?: CsvRecord;
  rows: CsvRecord[];
  faults: CsvFault[];
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Byte offset of the start of every physical line (\n, \r\n or a lone \r ends a line). */
function lineStarts(buf: Buffer): number[] {
  const starts = [0];
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x0a || (c === 0x0d && buf[i + 1] !== 0x0a)) starts.push(i + 1);
  }
  return starts;
}

/** 1-based line of byte `offset`. */
function lineAt(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** Skip blank space and line breaks: where the next record really begins. */
function skipBlank(buf: Buffer, offset: number): number {
  let i = offset;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0a || buf[i] === 0x0d)) i++;
  return i;
}

const QUOTE_HINT = 'put the whole field in quotes and double any quote inside it: "Chan ""Tai Man"""';

function quoteFault(err: CsvError, line: number, runsOn: boolean): CsvFault {
  if (runsOn || err.code === 'CSV_QUOTE_NOT_CLOSED')
    return {
      code: 'CSV_QUOTE',
      line,
      message:
        'a quote opened on this line is not closed on it (the field would run on over the following lines)',
      hint: 'close the quote or remove it (the lines after it were read again as rows of their own)',
    };
  if (err.code === 'INVALID_OPENING_QUOTE')
    return { code: 'CSV_QUOTE', line, message: 'a stray quote inside an unquoted field', hint: QUOTE_HINT };
  if (/QUOTE/.test(err.code))
    return { code: 'CSV_QUOTE', line, message: 'text after a closing quote', hint: QUOTE_HINT };
  return { code: 'CSV_SYNTAX', line, message: err.message, hint: 'fix or delete the row' };
}

class Restart {
  constructor(readonly line: number) {}
}

/**
 * Read every record of `input`. The header is the first non-blank record;
 * later records must have as many fields as it (a record whose fields are all
 * empty, like a blank line or ",,,", is ignored).
 */
export function readCsvRecords(input: Buffer | string): CsvRead {
  let buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (buf.subarray(0, 3).equals(BOM)) buf = buf.subarray(3);
  const starts = lineStarts(buf);
  const out: CsvRead = { rows: [], faults: [] };
  let from = 0;

  while (from < buf.length) {
    const base = from;
    let prevEnd = base;
    try {
      parse(buf.subarray(base), {
        relax_column_count: true,
        skip_empty_lines: true,
        trim: true,
        on_record: (fields: string[], info: { bytes: number }) => {
          const start = skipBlank(buf, prevEnd);
          const end = base + info.bytes;
          prevEnd = end;
          const line = lineAt(starts, start);
          const endLine = lineAt(starts, Math.max(start, end - 1));
          if (fields.every((f) => f === '')) return null;
          const record = { fields, line, endLine };
          if (!out.header) {
            out.header = record;
            return null;
          }
          const want = out.header.fields.length;
          if (fields.length !== want) {
            out.faults.push({
              code: 'CSV_FIELD_COUNT',
              line,
              message: `${fields.length} field(s) where the header has ${want} (${out.header.fields.join(',')})`,
              hint:
                fields.length > want
                  ? 'put a field that contains a comma in quotes: "Chan, Tai Man"'
                  : 'give every column, empty if unknown: reader@example.com,,,',
            });
            if (endLine > line) throw new Restart(line + 1);
            return null;
          }
          out.rows.push(record);
          return null;
        },
      });
      from = buf.length;
    } catch (err) {
      let restartLine: number;
      if (err instanceof CsvError && !out.header) {
        // A broken header: nothing after it can be read as named columns.
        out.faults.push(quoteFault(err, lineAt(starts, skipBlank(buf, base)), false));
        break;
      }
      if (err instanceof Restart) restartLine = err.line;
      else if (err instanceof CsvError) {
        const line = lineAt(starts, skipBlank(buf, prevEnd));
        // err.lines counts from the start of this pass: a record that began
        // above the line where the parser noticed the problem ran on over lines.
        const lines = Number((err as { lines?: unknown }).lines ?? 1);
        const noticed = lineAt(starts, base) + Math.max(0, lines - 1);
        out.faults.push(quoteFault(err, line, noticed > line));
        restartLine = line + 1;
      } else throw err;
      from = restartLine <= starts.length ? starts[restartLine - 1]! : buf.length;
    }
  }
  out.faults.sort((a, b) => a.line - b.line);
  return out;
}
