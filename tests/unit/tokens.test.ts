import { describe, expect, it } from 'vitest';
import { issueToken, tokenKeys, v1Token, verifyToken } from '../../src/delivery/tokens.ts';

const key = Buffer.from('unit-secret');
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every way a URL piece could be read back: as is, percent-decoded, base64/base64url-decoded. */
function readings(s: string): string[] {
  const out = [s];
  try {
    out.push(decodeURIComponent(s));
  } catch {}
  for (const part of s.split(/[./?=&]/)) {
    out.push(
      Buffer.from(part, 'base64url').toString('latin1'),
      Buffer.from(part, 'base64').toString('latin1'),
    );
  }
  return out;
}

describe('v2 link tokens', () => {
  it('round-trip id, list and kind; carry nothing readable', () => {
    // An id of six digits: a two-digit one turns up by chance in random base64 (1 run in ~50).
    const t = issueToken([key], { kind: 'u', id: 420577, list: 'daily' });
    expect(t.startsWith('v2.')).toBe(true);
    expect(verifyToken([key], t, 'u')).toEqual({ v: 2, kind: 'u', id: 420577, list: 'daily' });
    for (const r of readings(t)) {
      expect(r).not.toContain('daily');
      expect(r).not.toMatch(/"i"|420577/);
    }
    // Random IV: two tokens for the same reader differ (a link cannot be matched across emails).
    expect(issueToken([key], { kind: 'u', id: 420577, list: 'daily' })).not.toBe(t);
  });

  it('refuse another key, another kind, an altered body, a twin spelling, an expired token', () => {
    const t = issueToken([key], { kind: 'p', id: 7, list: 'daily' });
    expect(verifyToken([Buffer.from('other')], t, 'p')).toBeUndefined();
    expect(verifyToken([key], t, 'u')).toBeUndefined();
    expect(verifyToken([key], t, 'c')).toBeUndefined();
    const body = t.slice(3);
    for (let i = 0; i < body.length; i += 7) {
      const flipped = `v2.${body.slice(0, i)}${body[i] === 'A' ? 'B' : 'A'}${body.slice(i + 1)}`;
      expect(verifyToken([key], flipped, 'p')).toBeUndefined();
    }
    const twin = `v2.${body.slice(0, -1)}${B64[B64.indexOf(body.at(-1)!) ^ 1]}`;
    expect(verifyToken([key], twin, 'p')).toBeUndefined();
    const c = issueToken([key], { kind: 'c', id: 1, list: 'daily', exp: 1_000 });
    expect(verifyToken([key], c, 'c', 999_000)).toMatchObject({ id: 1, exp: 1_000 });
    expect(verifyToken([key], c, 'c', 1_001_000)).toBeUndefined();
  });

  it('rotation: tokens made under a previous secret verify while it is in BROADSHEET_SECRET_PREVIOUS', () => {
    const old = issueToken([Buffer.from('old-secret')], { kind: 'u', id: 3, list: 'daily' });
    const keys = tokenKeys(Buffer.from('new-secret'), { BROADSHEET_SECRET_PREVIOUS: 'older, old-secret' });
    expect(keys).toHaveLength(3);
    expect(verifyToken(keys, old, 'u')).toMatchObject({ id: 3 });
    expect(verifyToken(tokenKeys(Buffer.from('new-secret'), {}), old, 'u')).toBeUndefined();
    // New tokens are made with the current secret only.
    const fresh = issueToken(keys, { kind: 'u', id: 3, list: 'daily' });
    expect(verifyToken([Buffer.from('new-secret')], fresh, 'u')).toMatchObject({ id: 3 });
    // v1 links are accepted under previous secrets too, and only as unsubscribe/preference links.
    const legacy = v1Token(Buffer.from('old-secret'), 'daily', 'a@example.com');
    expect(verifyToken(keys, legacy, 'u')).toEqual({
      v: 1,
      kind: 'u',
      list: 'daily',
      email: 'a@example.com',
    });
    expect(verifyToken(keys, legacy, 'c')).toBeUndefined();
  });
});
