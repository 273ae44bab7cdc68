// Who the digest comes from, derived from what a newsroom sets anyway, so a
// rebrand is `brand.name` + `publicUrl` and nothing else:
//   sender domain  = the host of publicUrl (a leading "www." dropped); when that
//                    is an IP address or a single label (localhost, a test
//                    server), the host of brand.url instead
//   email.from     = "<brand.name><first edition's title> <digest@<domain>>"
//   delivery.domain (Message-IDs, List-Id, mailto unsubscribe) = the domain of email.from
// Each is used only when not set in the file. README.md § Configuration.

/** The sample's domains: still sending from these means the rebrand was not done. */
export const SAMPLE_DOMAINS = ['example.com', 'news.example.com'];

/** A mail domain from a URL's host, or undefined for an IP address or a single label. */
function mailDomain(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase(); // already punycode (xn--…) for IDNs
  } catch {
    return undefined;
  }
  if (host.startsWith('[') || /^\d+(\.\d+){3}$/.test(host) || !host.includes('.')) return undefined;
  return host.replace(/^www\./, '');
}

/** The display-name part of an address, quoted when it holds RFC 5322 specials. */
function displayName(name: string): string {
  const n = name.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return /[()<>[\]:;@\\,."]/.test(n) ? `"${n.replace(/["\\]/g, '\\$&')}"` : n;
}

/** The domain of `Name <user@domain>` or `user@domain`. */
export const domainOfAddress = (from: string): string | undefined =>
  /@([^\s<>@]+?)>?\s*$/.exec(from.trim())?.[1]?.toLowerCase();

export function senderDomain(c: { publicUrl: string; brand: { url: string } }): string {
  return mailDomain(c.publicUrl) ?? mailDomain(c.brand.url) ?? 'localhost.localdomain';
}

interface IdentityInput {
  publicUrl: string;
  brand: { name: string; url: string };
  editions: Record<string, { title: string }>;
  email: { from?: string };
  delivery: { domain?: string };
}

/** Fill email.from and delivery.domain from brand and publicUrl where the file left them out. */
export function withSenderIdentity<C extends IdentityInput>(
  c: C,
): C & { email: C['email'] & { from: string }; delivery: C['delivery'] & { domain: string } } {
  const title = Object.values(c.editions)[0]?.title ?? '';
  const from = c.email.from ?? `${displayName(`${c.brand.name}${title}`)} <digest@${senderDomain(c)}>`;
  const domain = c.delivery.domain ?? domainOfAddress(from) ?? senderDomain(c);
  return { ...c, email: { ...c.email, from }, delivery: { ...c.delivery, domain } };
}
