// Link scanners: mail security gateways (Microsoft Defender Safe Links,
// Proofpoint, Mimecast, Barracuda …) fetch every link of a message when it
// arrives, and would otherwise look like a reader who clicked everything.
// A click judged a scanner's is still recorded (scanner = 1) but never counted.
//
// The signs, each cheap and explainable:
//   - HEAD requests (a person's browser always GETs);
//   - an empty user agent, or one naming a scanner or bot (the short list below
//     plus analytics.scannerAgents) — deliberately short: most gateways send a
//     browser-like agent, and the burst rule is what catches them;
//   - a burst: one visitor (same IP, agent and day) following ≥ burst.links
//     distinct stories of one edition within burst.seconds. Defaults 3 in 2 s:
//     a scanner fetches a message's ~10 links within milliseconds, while a
//     person reads a headline, clicks, reads the article, comes back — seconds
//     to minutes apart. Repeats of one link never make a burst (distinct
//     stories are counted), so someone checking a link by hand with curl
//     again and again still counts once per story;
//   - with analytics.perReader: a click within scannerDelaySeconds of that
//     reader's delivery (sends.sent_at): nobody opens and clicks that fast,
//     gateways do exactly that.

/** Substrings (case-insensitive) of user agents that are link checkers or bots, never readers. */
export const SCANNER_AGENTS = [
  'bot',
  'spider',
  'crawler',
  'barracuda',
  'proofpoint',
  'mimecast',
  'safelinks',
  'messagelabs',
  'trendmicro',
  'fortiguard',
  'zscaler',
] as const;

/** True when the user agent is missing or names a scanner (built-in list plus `extra`). */
export function scannerAgent(ua: string | undefined, extra: readonly string[] = []): boolean {
  const s = (ua ?? '').trim().toLowerCase();
  if (!s) return true;
  return [...SCANNER_AGENTS, ...extra.map((e) => e.toLowerCase())].some((needle) => s.includes(needle));
}
