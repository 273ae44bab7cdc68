import {
  type Cipher,
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  timingSafeEqual,
} from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

// Click tokens: /r/<token> names an edition and a story and carries the
// article's URL, so a link keeps working after out/ is pruned and no lookup
// table is needed. The target is public anyway (it is the newsroom's own
// article), so the token is signed, not encrypted: a forged or altered token
// never verifies, so /r/ can never be used as an open redirect.
//
//   token = base64url( flags ‖ body ‖ HMAC-SHA256(key, "broadsheet/r/1" ‖ flags ‖ body)[0..12) )
//   body  = "<edition>\n<story>\n<url>", "https://" dropped (flag 2), deflated
//           with a fixed dictionary when that is shorter (flag 1).
//
// The MAC is 96 bits (16 characters): forging one online takes ~2^95 requests.
// The key is HKDF of the secret (never the secret itself); rotation as in
// src/delivery/tokens.ts: keys[0] issues, every key verifies.
//
// Reader refs (analytics.perReader): /r/<token>/<ref>, ref = one AES-256 block
// (22 characters) of [reader id: 6 bytes ‖ HMAC(edition, id): 10 bytes]. Without
// the key the id is unreadable; the 80-bit tag both authenticates the ref and
// binds it to its edition, so a ref copied to another edition's link fails.

const b64 = (b: Buffer) => b.toString('base64url');
const FLAG_DEFLATE = 1;
const FLAG_HTTPS = 2;
const MAC_BYTES = 12;
/** Frequent pieces of article URLs: a preset dictionary makes short inputs compress. */
const DICT = Buffer.from('http://www..html.htm.php?id=/news/article/story/2024/2025/2026/2027/daily-weekly-');
/** Longest token accepted (a ~400-character URL); anything longer is not ours. */
const MAX_TOKEN = 700;

const keyCache = new Map<string, Buffer>();
function derive(secret: Buffer, info: string): Buffer {
  const id = `${info}\u0000${secret.toString('base64')}`;
  let k = keyCache.get(id);
  if (!k) {
    k = Buffer.from(hkdfSync('sha256', secret, 'broadsheet', info, 32));
    keyCache.set(id, k);
  }
  return k;
}

export interface ClickClaims {
  edition: string;
  story: string;
  url: string;
}

type Kind = 'r' | 'o';
const mac = (key: Buffer, signed: Buffer, kind: Kind = 'r') =>
  createHmac('sha256', derive(key, 'click-token v1 hmac'))
    .update(`broadsheet/${kind}/1`)
    .update(signed)
    .digest()
    .subarray(0, MAC_BYTES);

/** Edition and story ids are the content's ids: no newline (the separator) in them. */
const clean = (s: string) => !/[\n\r]/.test(s);

/** The token for one article link of one edition (deterministic: the same link gets the same token). */
export function issueClick(keys: readonly Buffer[], c: ClickClaims, kind: Kind = 'r'): string {
  if (!clean(c.edition) || !clean(c.story) || !clean(c.url))
    throw new TypeError('click token: edition, story and url must be single-line');
  let flags = 0;
  let url = c.url;
  if (url.startsWith('https://')) {
    flags |= FLAG_HTTPS;
    url = url.slice(8);
  }
  const plain = Buffer.from(`${c.edition}\n${c.story}\n${url}`, 'utf8');
  const packed = deflateRawSync(plain, { level: 9, dictionary: DICT });
  let body = plain;
  if (packed.length < plain.length) {
    flags |= FLAG_DEFLATE;
    body = packed;
  }
  const signed = Buffer.concat([Buffer.from([flags]), body]);
  return b64(Buffer.concat([signed, mac(keys[0]!, signed, kind)]));
}

/** The claims of a genuine token, or undefined (forged, altered, truncated, not ours). */
export function verifyClick(
  keys: readonly Buffer[],
  token: string,
  kind: Kind = 'r',
): ClickClaims | undefined {
  if (token.length < 20 || token.length > MAX_TOKEN || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64url');
  // A spelling that does not round-trip (spare bits set) is an altered token.
  if (b64(raw) !== token || raw.length < 1 + MAC_BYTES + 4) return undefined;
  const signed = raw.subarray(0, raw.length - MAC_BYTES);
  const got = raw.subarray(raw.length - MAC_BYTES);
  if (!keys.some((k) => timingSafeEqual(mac(k, signed, kind), got))) return undefined;
  const flags = signed[0]!;
  if (flags & ~(FLAG_DEFLATE | FLAG_HTTPS)) return undefined;
  let body = signed.subarray(1);
  try {
    if (flags & FLAG_DEFLATE) body = inflateRawSync(body, { dictionary: DICT, maxOutputLength: 4096 });
  } catch {
    return undefined;
  }
  const parts = body.toString('utf8').split('\n');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return undefined;
  const url = (flags & FLAG_HTTPS ? 'https://' : '') + parts[2];
  // Only http(s) targets are ever issued (articles' urls are validated as such).
  if (!/^https?:\/\//i.test(url)) return undefined;
  return { edition: parts[0], story: parts[1], url };
}

// The open pixel's token: the same format under its own MAC domain ('o'), so a
// pixel token is never a click link and the reverse; it names only the edition.
const OPEN_TARGET = 'https://open.invalid/';

export const issueOpen = (keys: readonly Buffer[], edition: string) =>
  issueClick(keys, { edition, story: '-', url: OPEN_TARGET }, 'o');

export const verifyOpen = (keys: readonly Buffer[], token: string): string | undefined =>
  verifyClick(keys, token, 'o')?.edition;

const refTag = (key: Buffer, edition: string, id: Buffer) =>
  createHmac('sha256', derive(key, 'click-reader v1 hmac'))
    .update(`${edition}\n`)
    .update(id)
    .digest()
    .subarray(0, 10);

function idBytes(id: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(id, 0, 6);
  return b;
}

// One cipher per key for every reader of a send (a send makes one ref per reader):
// ECB without padding turns each 16-byte update() into its block at once and keeps
// no state between blocks, so final() is never needed. Keyed by the derived key,
// which derive() caches per secret.
const refEncryptors = new Map<Buffer, Cipher>();
function refEncryptor(key: Buffer): Cipher {
  let c = refEncryptors.get(key);
  if (!c) {
    c = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    refEncryptors.set(key, c);
  }
  return c;
}

/** The encrypted per-reader part of a click link for `edition` (22 characters). */
export function issueReaderRef(keys: readonly Buffer[], edition: string, subscriberId: number): string {
  if (!Number.isSafeInteger(subscriberId) || subscriberId < 0 || subscriberId >= 2 ** 48)
    throw new RangeError('reader ref: subscriber id out of range');
  const key = keys[0]!;
  const id = idBytes(subscriberId);
  const block = Buffer.concat([id, refTag(key, edition, id)]);
  // One block, no IV: a PRP of a block with 80 bits of keyed redundancy (deterministic
  // authenticated encryption of a short message); the same reader gets one ref per edition.
  const out = refEncryptor(derive(key, 'click-reader v1 aes')).update(block);
  if (out.length !== 16) throw new Error(`reader ref cipher returned ${out.length} bytes for one block`);
  return b64(out);
}

/** The reader id in a genuine ref for `edition`, or undefined. */
export function verifyReaderRef(keys: readonly Buffer[], edition: string, ref: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{22}$/.test(ref)) return undefined;
  const raw = Buffer.from(ref, 'base64url');
  if (raw.length !== 16 || b64(raw) !== ref) return undefined;
  for (const key of keys) {
    const d = createDecipheriv('aes-256-ecb', derive(key, 'click-reader v1 aes'), null).setAutoPadding(false);
    const block = Buffer.concat([d.update(raw), d.final()]);
    const id = block.subarray(0, 6);
    if (timingSafeEqual(block.subarray(6), refTag(key, edition, id))) return id.readUIntBE(0, 6);
  }
  return undefined;
}
