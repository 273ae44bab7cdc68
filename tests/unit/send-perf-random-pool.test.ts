import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../../src/delivery/random-pool.ts';

// The pooled CSPRNG bytes behind link-token IVs and MIME boundaries: each byte handed out once.
describe('pooledRandomBytes', () => {
  it('gives n bytes per call, never the same bytes twice, across refills', () => {
    const seen = new Set<string>();
    const first = pooledRandomBytes(12);
    const kept = Buffer.from(first);
    for (let i = 0; i < 2000; i++) {
      const b = pooledRandomBytes(12);
      expect(b.length).toBe(12);
      seen.add(b.toString('hex'));
    }
    // 2,000 draws of 96 bits: a repeat would mean bytes handed out twice.
    expect(seen.size).toBe(2000);
    // A view handed out earlier is never rewritten by a refill (several refills happened).
    expect(first.equals(kept)).toBe(true);
  });

  it('larger requests come straight from randomBytes', () => {
    const a = pooledRandomBytes(4096);
    const b = pooledRandomBytes(4096);
    expect(a.length).toBe(4096);
    expect(a.equals(b)).toBe(false);
  });
});
