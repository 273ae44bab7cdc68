// Replay defences shared by the providers that sign a timestamp.

/** Is a signed Unix timestamp (seconds, as a string) within maxAge of now, either way? */
export function freshSeconds(ts: string, now: Date, maxAgeSeconds: number): boolean {
  if (!/^\d{1,12}$/.test(ts)) return false;
  return Math.abs(now.getTime() / 1000 - Number(ts)) <= maxAgeSeconds;
}

/**
 * Tokens seen within the freshness window (Mailgun's per-call token): a second
 * call with one is a replay. Bounded: entries older than the window are
 * dropped (their timestamps are refused anyway) and past `max` the oldest go
 * first — a replay of one of those still changes nothing, since every event is
 * recorded once by its provider id.
 */
export class SeenTokens {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly max = 100_000,
  ) {}

  /** True the first time a token is offered within the window; false for a replay. */
  first(token: string, nowMs: number): boolean {
    for (const [t, at] of this.seen) {
      if (nowMs - at <= this.windowMs) break;
      this.seen.delete(t);
    }
    if (this.seen.has(token)) return false;
    while (this.seen.size >= this.max) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(token, nowMs);
    return true;
  }

  get size() {
    return this.seen.size;
  }
}
