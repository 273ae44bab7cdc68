import { UsageError } from '../errors/index.ts';

// Durations in config and flags: `2h`, `90m`, `1h30m`, `45s`, `0`, or ISO 8601
// `PT2H`; a bare number is seconds.

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * 1000 : undefined;
  const t = v.trim().toLowerCase().replace(/^pt?/, '');
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== t.replace(/\s+/g, '')) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT[p[2]!]!, 0);
}

/** `2h`, `1h30m`, `45s`, `0s`: the short form back. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const out: string[] = [];
  let rest = ms;
  for (const [u, n] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= n) {
      out.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  if (rest) out.push(`${rest}ms`);
  return out.join('');
}

/** A `--flag <seconds>` value in ms; `dflt` in seconds when absent. */
export function secondsFlag(v: string | undefined, dflt: number, flag: string): number {
  if (v === undefined) return dflt * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} takes seconds above 0, got "${v}"`);
  return n * 1000;
}
