// MIME base64 (RFC 2045 § 6.8: lines of 76 characters, each ended by CRLF) of
// a part given as a list of byte chunks — a digest's fixed parts and one
// reader's short values between them (mergeRecipientBytes). The output is
// exactly that of encoding the chunks joined, but a long fixed chunk is
// encoded once per alignment and then copied: every 3 bytes make 4
// characters and every 57 bytes one line, so where a chunk's encoding starts
// depends only on its offset modulo 57 (19 group-aligned phases), plus the 0–2
// bytes before it that complete a group with its first bytes.

const LINE = 76;
const LINE_BYTES = 57;
/** Chunks at least this long are cached by phase (the readers' values are shorter). */
const CACHE_FROM = 1024;
const CRLF = Buffer.from('\r\n');

/** Per fixed chunk: phase → its group-aligned middle, encoded with CRLFs where lines end. */
const cache = new WeakMap<Buffer, Map<number, Buffer>>();

/** `b64` (group-aligned) written from column `col`: a CRLF after every 76th character of a line. */
function lineify(b64: string, col: number): string {
  const first = LINE - col;
  if (b64.length < first) return b64;
  let out = `${b64.slice(0, first)}\r\n`;
  for (let i = first; i < b64.length; i += LINE) {
    const line = b64.slice(i, i + LINE);
    out += line.length === LINE ? `${line}\r\n` : line;
  }
  return out;
}

/** Base64 lines of the chunks joined; ends with CRLF unless empty. Returns ASCII byte chunks. */
export function base64LineChunks(chunks: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0; // bytes consumed (encoded or pending)
  let pending = Buffer.alloc(0); // offset % 3 bytes not yet encoded
  const col = () => (Math.floor(offset / 3) * 4) % LINE; // column of the next group
  const emit = (b64: string, at: number) => {
    if (b64) out.push(Buffer.from(lineify(b64, at), 'latin1'));
  };
  for (const chunk of chunks) {
    let from = 0;
    if (pending.length) {
      // Complete the open group with the chunk's first bytes.
      const need = 3 - pending.length;
      const head = chunk.subarray(0, need);
      const group = Buffer.concat([pending, head]);
      if (group.length < 3) {
        pending = group;
        offset += head.length;
        continue;
      }
      const at = col();
      offset += head.length;
      pending = Buffer.alloc(0);
      emit(group.toString('base64'), at);
      from = need;
    }
    const end = from + Math.floor((chunk.length - from) / 3) * 3;
    if (end > from) {
      const at = col();
      const phase = offset % LINE_BYTES;
      if (chunk.length >= CACHE_FROM) {
        let byPhase = cache.get(chunk);
        if (!byPhase) {
          byPhase = new Map();
          cache.set(chunk, byPhase);
        }
        // `from` is fixed by the phase too: it is (3 - offset % 3) % 3 before the chunk.
        const key = phase * 3 + from;
        let enc = byPhase.get(key);
        if (!enc) {
          enc = Buffer.from(lineify(chunk.toString('base64', from, end), at), 'latin1');
          byPhase.set(key, enc);
        }
        out.push(enc);
      } else emit(chunk.toString('base64', from, end), at);
      offset += end - from;
    }
    if (end < chunk.length) {
      pending = Buffer.from(chunk.subarray(end));
      offset += chunk.length - end;
    }
  }
  if (pending.length) {
    // The last 1–2 bytes, padded with "=" (offset counts them: the column is that of their group).
    const at = (Math.floor((offset - pending.length) / 3) * 4) % LINE;
    emit(pending.toString('base64'), at);
  }
  const total = Math.ceil(offset / 3) * 4;
  if (total % LINE) out.push(CRLF);
  return out;
}
