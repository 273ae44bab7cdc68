import { parseHeaderValue } from 'nodemailer/lib/mime-funcs';

// A small, bounded MIME tree for the parts of reports that mailparser flattens:
// simpleParser folds message/delivery-status into the text body and hands
// text/rfc822-headers and message/rfc822 over as opaque attachments, so the
// per-recipient fields of a DSN (RFC 3464), the feedback report of an ARF
// (RFC 5965) and the returned message's headers are read here. The rest of a
// message (subject, sender, decoded text) still comes from simpleParser.
//
// Junk never throws out of here and never runs long: nesting is capped at
// MAX_DEPTH, the number of parts at MAX_PARTS, and every step is a linear scan.

export interface Headers {
  /** Lower-cased field name → unfolded values, in order. */
  get(name: string): string | undefined;
  all(name: string): string[];
}

export interface MimePart {
  headers: Headers;
  /** Lower-cased media type, e.g. message/delivery-status; text/plain when absent. */
  type: string;
  params: Record<string, string>;
  /** The body after its Content-Transfer-Encoding is undone. */
  body: Buffer;
  children: MimePart[];
  /** For message/rfc822 and text/rfc822-headers: the enclosed message's headers. */
  enclosed?: MimePart;
}

const MAX_DEPTH = 6;
const MAX_PARTS = 100;

class FieldMap implements Headers {
  private readonly m = new Map<string, string[]>();
  add(name: string, value: string) {
    const k = name.toLowerCase();
    const list = this.m.get(k);
    if (list) list.push(value);
    else this.m.set(k, [value]);
  }
  get(name: string) {
    return this.m.get(name.toLowerCase())?.[0];
  }
  all(name: string) {
    return this.m.get(name.toLowerCase()) ?? [];
  }
}

/** `Name: value` lines (folded continuation lines joined); stops at the first blank line. */
export function parseFields(text: string): FieldMap {
  const fields = new FieldMap();
  let name = '';
  let value = '';
  const flush = () => {
    if (name) fields.add(name, value.trim());
    name = '';
    value = '';
  };
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (/^[ \t]/.test(line)) {
      if (name) value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const m = /^([!-9;-~]+):(.*)$/.exec(line);
    if (m) {
      name = m[1]!;
      value = m[2]!;
    }
  }
  flush();
  return fields;
}

/** Blocks of fields separated by blank lines (the body of message/delivery-status). */
export function parseFieldGroups(text: string): FieldMap[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((block) => block.replace(/^\n+/, ''))
    .filter((block) => block.trim() !== '')
    .map((block) => parseFields(block));
}

function splitHead(raw: Buffer): { head: string; body: Buffer } {
  // Headers end at the first empty line (CRLF CRLF or LF LF).
  const s = raw.toString('latin1');
  const m = /\r?\n\r?\n/.exec(s);
  if (!m) return { head: s, body: Buffer.alloc(0) };
  return { head: s.slice(0, m.index), body: raw.subarray(m.index + m[0].length) };
}

function decodeQp(s: string): Buffer {
  const out: number[] = [];
  const text = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 61 && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c & 255);
  }
  return Buffer.from(out);
}

function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (e === 'quoted-printable') return decodeQp(body.toString('latin1'));
  return body;
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const s = body.toString('latin1');
  const delim = `--${boundary}`;
  const parts: Buffer[] = [];
  let start = -1;
  let pos = 0;
  while (parts.length < MAX_PARTS) {
    const i = s.indexOf(delim, pos);
    if (i < 0) break;
    // A delimiter only counts at the start of a line.
    if (i > 0 && s[i - 1] !== '\n') {
      pos = i + delim.length;
      continue;
    }
    if (start >= 0) parts.push(body.subarray(start, Math.max(start, i - (s[i - 2] === '\r' ? 2 : 1))));
    const close = s.startsWith('--', i + delim.length);
    if (close) return parts;
    const eol = s.indexOf('\n', i);
    if (eol < 0) break;
    start = eol + 1;
    pos = start;
  }
  // No closing delimiter (truncated report): keep what came after the last one.
  if (start >= 0 && parts.length < MAX_PARTS) parts.push(body.subarray(start));
  return parts;
}

/** The MIME tree of a message; never throws (a part it cannot read becomes an empty text part). */
export function parseMime(raw: Buffer, depth = 0, budget = { parts: 0 }): MimePart {
  budget.parts++;
  const { head, body } = splitHead(raw);
  const headers = parseFields(head);
  let type = 'text/plain';
  let params: Record<string, string> = {};
  try {
    const ct = parseHeaderValue(headers.get('content-type') ?? 'text/plain');
    type = (ct.value || 'text/plain').trim().toLowerCase();
    params = Object.fromEntries(
      Object.entries(ct.params ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
    );
  } catch {
    // keep text/plain
  }
  const part: MimePart = {
    headers,
    type,
    params,
    body: decodeBody(body, headers.get('content-transfer-encoding')),
    children: [],
  };
  if (depth >= MAX_DEPTH) return part;
  if (type.startsWith('multipart/') && params.boundary) {
    for (const p of splitMultipart(body, params.boundary)) {
      if (budget.parts >= MAX_PARTS) break;
      part.children.push(parseMime(p, depth + 1, budget));
    }
    part.body = Buffer.alloc(0);
  } else if (type === 'message/rfc822' || type === 'message/global') {
    part.enclosed = parseMime(part.body, depth + 1, budget);
  } else if (type === 'text/rfc822-headers' || type === 'message/global-headers') {
    part.enclosed = {
      headers: parseFields(part.body.toString('utf8')),
      type: 'text/plain',
      params: {},
      body: Buffer.alloc(0),
      children: [],
    };
  }
  return part;
}

/** Every part of the tree, depth first (enclosed messages included). */
export function* walk(p: MimePart): Generator<MimePart> {
  yield p;
  for (const c of p.children) yield* walk(c);
  if (p.enclosed) yield* walk(p.enclosed);
}

/** The first part of a media type, not looking inside enclosed messages (a report's own parts). */
export function findPart(p: MimePart, type: string): MimePart | undefined {
  if (p.type === type) return p;
  for (const c of p.children) {
    const hit = findPart(c, type);
    if (hit) return hit;
  }
  return undefined;
}

/** The enclosed (returned) message of a report: message/rfc822 or text/rfc822-headers. */
export function returnedMessage(p: MimePart): MimePart | undefined {
  for (const t of ['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers']) {
    const hit = findPart(p, t);
    if (hit?.enclosed) return hit.enclosed;
  }
  return undefined;
}
