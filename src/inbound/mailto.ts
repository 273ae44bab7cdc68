// Unsubscribes by email: the List-Unsubscribe header's mailto
// (`mailto:unsubscribe@<domain>?subject=unsubscribe <token>`), which Gmail,
// Apple Mail and Outlook use when a reader presses their Unsubscribe button.
// The token is the one in the https link (tokens.ts, kind 'u'; v1 too).
//
// A request WITHOUT a valid token is not acted on: its From is trivially forged
// and would let anyone unsubscribe anyone. It is kept as 'unknown' for a human.

/** v2 tokens and the legacy v1 "<payload>.<mac>" spelling. */
const TOKEN =
  /\bunsubscribe\s*[:\s]\s*((?:v2\.[A-Za-z0-9_-]{40,400})|(?:[A-Za-z0-9_-]{8,600}\.[A-Za-z0-9_-]{43}))(?![A-Za-z0-9_.-])/i;

/** The token in a subject, or else in the first 4 KB of the body. */
export function unsubscribeTokenIn(subject: string, text: string): string | undefined {
  return TOKEN.exec(subject)?.[1] ?? TOKEN.exec(text.slice(0, 4096))?.[1];
}

/** local@domain without a +tag, lower-case. */
const bare = (a: string) => {
  const s = a.trim().replace(/^<|>$/g, '').toLowerCase();
  const at = s.lastIndexOf('@');
  if (at < 0) return s;
  return `${s.slice(0, at).replace(/\+.*$/, '')}@${s.slice(at + 1)}`;
};

/** Whether any of `addresses` is the unsubscribe mailbox (sub-addresses included). */
export function isAddressedTo(addresses: readonly string[], mailbox: string): boolean {
  const want = bare(mailbox);
  return addresses.some((a) => bare(a) === want);
}
