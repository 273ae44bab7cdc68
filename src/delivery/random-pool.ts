import { randomBytes } from 'node:crypto';

// CSPRNG bytes drawn from a pool filled 3 KB at a time (issue 16): a send asks
// for 12 random bytes three times per reader (two link-token IVs, the MIME
// boundary), and a randomBytes() call cost more than what it was for. Every
// byte comes from randomBytes and is handed out once.

const FILL = 3072;
let pool = Buffer.alloc(0);
let at = 0;

/** `n` fresh random bytes (a view of the pool: the pool is replaced, never rewritten). */
export function pooledRandomBytes(n: number): Buffer {
  if (n > FILL / 4) return randomBytes(n);
  if (at + n > pool.length) {
    pool = randomBytes(FILL);
    at = 0;
  }
  at += n;
  return pool.subarray(at - n, at);
}
