import { type Cipher, createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { BroadsheetError } from '../errors/index.ts';
import type { DB } from '../store/db.ts';
import { isSafeAddress } from './compose.ts';

// VERP return paths (issue 15): each digest message's envelope sender (MAIL
// FROM) is `<local>+<token>@<domain>`, so a bounce, which goes to the envelope
// sender, names its reader without anyone reading its free text.
//
// The token is ONE AES-256 block (16 bytes), encrypted with a key derived by
// HKDF from the app secret (like the link tokens in tokens.ts), written in
// lower-case base32 (26 characters: MTAs may lower-case a local part):
//
//   bytes 0–5   subscriber row id (48 bits, big-endian)
//   bytes 6–9   first 4 bytes of SHA-256(edition id) — edition ids have no
//               length limit, so the edition is resolved against the `sends`
//               ledger: the subscriber's send whose edition has this hash
//   bytes 10–15 zero: the authentication. A random or altered token decrypts
//               to a random block, which has six zero bytes once in 2^48.
//
// Nothing is readable without the secret; the same (edition, reader) always
// gives the same token (a single AES block is deterministic), which lets a
// re-sent message keep its return path. BROADSHEET_SECRET_PREVIOUS keys still
// open tokens (bounces arrive days after the send).

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
export const VERP_TOKEN_LENGTH = 26;
/** RFC 5321 § 4.5.3.1.1: a local part is at most 64 octets. */
export const MAX_LOCAL_PART = 64;

const derived = new Map<string, Buffer>();
function verpKey(secret: Buffer): Buffer {
  const k = secret.toString('base64');
  let key = derived.get(k);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', secret, 'broadsheet', 'verp v1 aes-256-ecb', 32));
    derived.set(k, key);
  }
  return key;
}

function base32(b: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** 16 bytes from 26 base32 characters (any case), or undefined (bad character, spare bits set). */
function unbase32(s: string): Buffer | undefined {
  if (s.length !== VERP_TOKEN_LENGTH) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of s.toLowerCase()) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  // 26 × 5 = 130 bits: the last 2 are padding and must be 0 (one spelling per token).
  if (value !== 0 || out.length !== 16) return undefined;
  return Buffer.from(out);
}

/** The first 4 bytes of SHA-256 of an edition id, as stored in a token. */
export const editionHash = (edition: string) => createHash('sha256').update(edition).digest().subarray(0, 4);

// A send makes one token per reader with one key and one edition: the cipher
// and the edition's hash are made once, not per reader. ECB without padding
// turns each 16-byte update() into its block at once and keeps no state
// between blocks, so one cipher serves every token (final() is never called).
// Keyed by the derived key, which verpKey caches per secret (one entry per secret, like it).
const encryptors = new Map<Buffer, Cipher>();
function encryptor(secret: Buffer): Cipher {
  const key = verpKey(secret);
  let c = encryptors.get(key);
  if (!c) {
    c = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    encryptors.set(key, c);
  }
  return c;
}
let lastEdition: { edition: string; hash: Buffer } | undefined;

const MAX_ID = 2 ** 48 - 1;

/** The token for (edition, subscriber), made with the current key. */
export function verpToken(keys: readonly Buffer[], edition: string, subscriberId: number): string {
  if (!Number.isSafeInteger(subscriberId) || subscriberId < 0 || subscriberId > MAX_ID)
    throw new RangeError(`subscriber id out of range: ${subscriberId}`);
  const plain = Buffer.alloc(16);
  plain.writeUIntBE(subscriberId, 0, 6);
  if (lastEdition?.edition !== edition) lastEdition = { edition, hash: editionHash(edition) };
  lastEdition.hash.copy(plain, 6);
  const block = encryptor(keys[0]!).update(plain);
  if (block.length !== 16) throw new Error(`VERP cipher returned ${block.length} bytes for one block`);
  return base32(block);
}

export interface VerpClaims {
  subscriberId: number;
  /** 4 bytes; see resolveVerp for the edition. */
  editionHash: Buffer;
}

/** The claims of a genuine token (any key in `keys`), or undefined. Never throws. */
export function openVerpToken(keys: readonly Buffer[], token: string): VerpClaims | undefined {
  const block = unbase32(token);
  if (!block) return undefined;
  for (const key of keys) {
    const d = createDecipheriv('aes-256-ecb', verpKey(key), null);
    d.setAutoPadding(false);
    const plain = Buffer.concat([d.update(block), d.final()]);
    if (plain.subarray(10).every((b) => b === 0))
      return { subscriberId: plain.readUIntBE(0, 6), editionHash: Buffer.from(plain.subarray(6, 10)) };
  }
  return undefined;
}

/** The VERP address for a base return path (`bounces@news.example.com`) and a token. */
export function verpAddress(base: string, token: string): string {
  const at = base.lastIndexOf('@');
  return `${base.slice(0, at)}+${token}@${base.slice(at + 1)}`;
}

const VERP_ADDRESS = new RegExp(`\\+([a-z2-7]{${VERP_TOKEN_LENGTH}})@[^@\\s]+$`, 'i');

/** The token in a VERP address (`bounces+<token>@…`, any case, with or without <>), or undefined. */
export function tokenOfAddress(address: string): string | undefined {
  const a = address.trim().replace(/^<|>$/g, '');
  return VERP_ADDRESS.exec(a)?.[1]?.toLowerCase();
}

/**
 * A token's (edition, subscriber): the subscriber's send whose edition matches
 * the token's edition hash. A token that names no real send resolves to nothing.
 */
export function resolveVerp(
  db: DB,
  keys: readonly Buffer[],
  token: string,
): { edition: string; subscriberId: number } | undefined {
  const c = openVerpToken(keys, token);
  if (!c) return undefined;
  const rows = db
    .prepare('SELECT edition FROM sends WHERE subscriber_id = ? ORDER BY created_at DESC')
    .all(c.subscriberId) as { edition: string }[];
  const hit = rows.find((r) => editionHash(r.edition).equals(c.editionHash));
  return hit ? { edition: hit.edition, subscriberId: c.subscriberId } : undefined;
}

/**
 * The base return path from `delivery.returnPath`: the configured address,
 * `bounces@<domain>` by default, or undefined when set to false (VERP off: the
 * envelope sender is the From address, as before issue 15). Throws
 * VERP_RETURN_PATH_INVALID when `<local>+<token>` would not fit in 64 octets.
 */
export function returnPathBase(returnPath: string | false | undefined, domain: string): string | undefined {
  if (returnPath === false) return undefined;
  const base = returnPath ?? `bounces@${domain}`;
  const local = base.slice(0, base.lastIndexOf('@'));
  const longest = Buffer.byteLength(local) + 1 + VERP_TOKEN_LENGTH;
  if (!isSafeAddress(base) || longest > MAX_LOCAL_PART)
    throw new BroadsheetError('VERP_RETURN_PATH_INVALID', {
      address: base,
      max: MAX_LOCAL_PART - 1 - VERP_TOKEN_LENGTH,
    });
  return base;
}
