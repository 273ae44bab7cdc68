import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

// Editor passwords: scrypt (node:crypto) with a random 16-byte salt. The stored
// form names its parameters — "scrypt$N$r$p$salt$hash" — so they can be raised
// later without invalidating existing accounts. N=2^15, r=8 takes ~32 MiB and
// tens of milliseconds per check: slow for a guesser, fine for a sign-in form
// that is also rate-limited. Runs on libuv's thread pool, never the event loop.

const scrypt = promisify(scryptCb) as (
  password: string | Buffer,
  salt: Buffer,
  keylen: number,
  opts: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const PARAMS = { N: 2 ** 15, r: 8, p: 1 };
const KEYLEN = 32;
const maxmem = (N: number, r: number) => 256 * N * r;

/** Shortest password `editors add|passwd` accepts. */
export const MIN_PASSWORD_LENGTH = 10;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = PARAMS;
  const key = await scrypt(password.normalize('NFC'), salt, KEYLEN, { N, r, p, maxmem: maxmem(N, r) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time check of a password against a stored hash; a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (kind !== 'scrypt' || !salt || !hash || !(N > 1 && R > 0 && P > 0) || N > 2 ** 20 || R > 32 || P > 16)
    return false;
  const want = Buffer.from(hash, 'base64url');
  const saltBytes = Buffer.from(salt, 'base64url');
  // A shortened key would match a prefix: only full-length keys and salts count.
  if (want.length !== KEYLEN || saltBytes.length < 16) return false;
  try {
    const got = await scrypt(password.normalize('NFC'), saltBytes, KEYLEN, {
      N,
      r: R,
      p: P,
      maxmem: maxmem(N, R) + 1024 * 1024,
    });
    return timingSafeEqual(want, got);
  } catch {
    return false; // parameters scrypt refuses (N not a power of two, …)
  }
}

/** A hash of a random password: checked against when the name is unknown, so timing does not tell names apart. */
let dummy: Promise<string> | undefined;
export const dummyHash = () => {
  dummy ??= hashPassword(randomBytes(16).toString('base64url'));
  return dummy;
};
