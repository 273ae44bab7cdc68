import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  issueClick,
  issueOpen,
  issueReaderRef,
  verifyClick,
  verifyOpen,
  verifyReaderRef,
} from '../../src/analytics/token.ts';

const KEY = Buffer.from('analytics-test-secret-0123456789');
const OLD = Buffer.from('an-older-secret-still-in-previous');
const CLAIMS = {
  edition: 'daily-2025-12-10',
  story: 'china-ai-rule-definer',
  url: 'https://news.example.com/2025/12/10/china-ai-rule-definer',
};

describe('click tokens', () => {
  it('round-trips edition, story and target, in a URL-safe token of under 100 characters', () => {
    const t = issueClick([KEY], CLAIMS);
    expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(t.length).toBeLessThan(100);
    expect(verifyClick([KEY], t)).toEqual(CLAIMS);
  });

  it('verifies under a previous key (rotation) and not under an unrelated one', () => {
    const t = issueClick([OLD], CLAIMS);
    expect(verifyClick([KEY, OLD], t)).toEqual(CLAIMS);
    expect(verifyClick([KEY], t)).toBeUndefined();
  });

  it('refuses every single-character change and every truncation', () => {
    const t = issueClick([KEY], CLAIMS);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < t.length; i++) {
      const c = alphabet[(alphabet.indexOf(t[i]!) + 1) % alphabet.length]!;
      expect(verifyClick([KEY], t.slice(0, i) + c + t.slice(i + 1))).toBeUndefined();
      expect(verifyClick([KEY], t.slice(0, i))).toBeUndefined();
    }
  });

  it('keeps a click token and an open token apart', () => {
    const open = issueOpen([KEY], CLAIMS.edition);
    expect(verifyOpen([KEY], open)).toBe(CLAIMS.edition);
    expect(verifyClick([KEY], open)).toBeUndefined();
    expect(verifyOpen([KEY], issueClick([KEY], CLAIMS))).toBeUndefined();
  });

  it('property: random strings never verify (seeded)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AZaz09-_xyQ'.split('')), maxLength: 200 }), (s) => {
        expect(verifyClick([KEY], s)).toBeUndefined();
        expect(verifyOpen([KEY], s)).toBeUndefined();
      }),
      { seed: 1501, numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 14, maxLength: 200 }), (b) => {
        expect(verifyClick([KEY], Buffer.from(b).toString('base64url'))).toBeUndefined();
      }),
      { seed: 1502, numRuns: 2000 },
    );
  });

  it('property: any http(s) target comes back exactly as issued (seeded)', () => {
    const id = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,40}$/);
    fc.assert(
      fc.property(
        id,
        id,
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        (edition, story, url) => {
          const t = issueClick([KEY], { edition, story, url });
          expect(verifyClick([KEY], t)).toEqual({ edition, story, url });
        },
      ),
      { seed: 1503, numRuns: 500 },
    );
  });
});

describe('reader refs', () => {
  it('round-trip, hide the id, and are bound to their edition', () => {
    const ref = issueReaderRef([KEY], CLAIMS.edition, 123456);
    expect(ref).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(ref).not.toContain('123456');
    expect(verifyReaderRef([KEY], CLAIMS.edition, ref)).toBe(123456);
    expect(verifyReaderRef([KEY], 'daily-2025-12-11', ref)).toBeUndefined();
    expect(verifyReaderRef([Buffer.from('other')], CLAIMS.edition, ref)).toBeUndefined();
    expect(issueReaderRef([KEY], CLAIMS.edition, 123457)).not.toBe(ref);
  });

  it('property: random refs never verify (seeded)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(verifyReaderRef([KEY], CLAIMS.edition, Buffer.from(b).toString('base64url'))).toBeUndefined();
      }),
      { seed: 1504, numRuns: 3000 },
    );
  });
});
