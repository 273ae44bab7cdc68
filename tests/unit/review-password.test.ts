import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/review/password.ts';

describe('editor password hashes (scrypt)', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse 電池 staple');
    const b = await hashPassword('correct horse 電池 staple');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse 電池 staple', a)).toBe(true);
    expect(await verifyPassword('correct horse 電池 staple', b)).toBe(true);
    expect(await verifyPassword('correct horse 電池 staplf', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('treats the composed and decomposed forms of a character as one password', async () => {
    const h = await hashPassword('caf\u00e9 passphrase');
    expect(await verifyPassword('cafe\u0301 passphrase', h)).toBe(true);
  });

  it('never matches a malformed or absurd stored hash (and does not throw)', async () => {
    const h = await hashPassword('some passphrase');
    const [, , , , salt, key] = h.split('$');
    for (const bad of [
      '',
      'plain',
      `bcrypt$32768$8$1$${salt}$${key}`,
      `scrypt$1$8$1$${salt}$${key}`,
      `scrypt$${2 ** 24}$8$1$${salt}$${key}`,
      `scrypt$32768$8$1$${salt}$`,
      `scrypt$32768$8$1$${salt}$${key!.slice(0, -2)}`,
      `scrypt$32767$8$1$${salt}$${key}`,
      `scrypt$32768$8$1$${salt!.slice(0, 8)}$${key}`,
    ])
      expect(await verifyPassword('some passphrase', bad), bad).toBe(false);
  });
});
