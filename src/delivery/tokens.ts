import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { pooledRandomBytes } from './random-pool.ts';

// Link tokens for readers: unsubscribe (/u/), preferences (/p/), confirm (/c/).
//
// v2 (issued): "v2.<base64url(iv ‖ AES-256-GCM(payload) ‖ tag)>". The payload is
// {k: kind, i: row id, l: list, x?: expiry (unix s)}: no address, no name, and
// not even the row id is readable — a forwarded email leaks nothing about its
// reader, and the id cannot be walked. The key is HKDF-SHA256 of the secret
// (BROADSHEET_SECRET), so the raw secret is never used as a cipher key, and the
// kind is bound into the additional data, so an unsubscribe token cannot be
// replayed as a confirm token.
//
// v1 (accepted, never issued again): "<base64url(JSON {l, s: email})>.<HMAC>".
// Links in emails sent before v2 keep working; they name the address, which is
// why they are no longer made.
//
// Rotation: keys[0] issues; every key in the list verifies. The app reads
// BROADSHEET_SECRET (first) and BROADSHEET_SECRET_PREVIOUS (comma-separated, old
// secrets), so a new secret can go live while links already in inboxes still work.

export type TokenKind = 'u' | 'p' | 'c';
export interface Claims {
  kind: TokenKind;
  id: number;
  list: string;
  /** Unix seconds after which the token is refused (confirm links). */
  exp?: number;
}
export type Verified = ({ v: 2 } & Claims) | { v: 1; kind: 'u'; list: string; email: string };

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const derived = new Map<string, Buffer>();
// The same secret Buffer comes back for every token of a send: found by identity
// first, without encoding it (the Map by value covers equal secrets in other Buffers).
const derivedFor = new WeakMap<Buffer, Buffer>();

function cipherKey(secret: Buffer): Buffer {
  const known = derivedFor.get(secret);
  if (known) return known;
  const k = secret.toString('base64');
  let key = derived.get(k);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', secret, 'broadsheet', 'link-token v2 aes-256-gcm', 32));
    derived.set(k, key);
  }
  derivedFor.set(secret, key);
  return key;
}

const AAD: Record<TokenKind, Buffer> = {
  u: Buffer.from('broadsheet/v2/u'),
  p: Buffer.from('broadsheet/v2/p'),
  c: Buffer.from('broadsheet/v2/c'),
};
const aad = (kind: TokenKind) => AAD[kind] ?? Buffer.from(`broadsheet/v2/${kind}`);

// Each IV is 12 fresh CSPRNG bytes used once, drawn from a pool (random-pool.ts):
// a send issues two tokens per reader, and a randomBytes() call per token cost
// more than its encryption.
const nextIv = () => pooledRandomBytes(12);

/** A v2 token for `claims`, made with the first (current) key. */
export function issueToken(keys: readonly Buffer[], claims: Claims): string {
  const iv = nextIv();
  const c = createCipheriv('aes-256-gcm', cipherKey(keys[0]!), iv);
  c.setAAD(aad(claims.kind));
  const body = JSON.stringify({
    k: claims.kind,
    i: claims.id,
    l: claims.list,
    ...(claims.exp ? { x: claims.exp } : {}),
  });
  const out = Buffer.concat([iv, c.update(body, 'utf8'), c.final(), c.getAuthTag()]);
  return `v2.${b64(out)}`;
}

function openV2(keys: readonly Buffer[], body: string, kind: TokenKind): Claims | undefined {
  if (!/^[A-Za-z0-9_-]{40,400}$/.test(body)) return undefined;
  const raw = Buffer.from(body, 'base64url');
  // A base64url spelling that does not round-trip (spare bits set) is an altered token.
  if (b64(raw) !== body || raw.length < 12 + 16 + 2) return undefined;
  for (const key of keys) {
    try {
      const d = createDecipheriv('aes-256-gcm', cipherKey(key), raw.subarray(0, 12));
      d.setAAD(aad(kind));
      d.setAuthTag(raw.subarray(raw.length - 16));
      const plain = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
      const v = JSON.parse(plain) as { k?: unknown; i?: unknown; l?: unknown; x?: unknown };
      if (v.k !== kind || !Number.isSafeInteger(v.i) || typeof v.l !== 'string') return undefined;
      return { kind, id: v.i as number, list: v.l, ...(typeof v.x === 'number' ? { exp: v.x } : {}) };
    } catch {
      // wrong key or altered: try the next key
    }
  }
  return undefined;
}

/** The legacy v1 format — kept so tests can prove old links still work; never used to issue. */
export function v1Token(secret: Buffer, list: string, email: string): string {
  const payload = b64(JSON.stringify({ l: list, s: email }));
  return `${payload}.${b64(createHmac('sha256', secret).update(payload).digest())}`;
}

function openV1(
  keys: readonly Buffer[],
  payload: string,
  mac: string,
): { list: string; email: string } | undefined {
  let ok = false;
  for (const key of keys) {
    // Compare the MAC as written, not as decoded: base64url's last character has
    // spare bits, so a decode-then-compare would accept altered spellings.
    const want = Buffer.from(b64(createHmac('sha256', key).update(payload).digest()));
    const got = Buffer.from(mac);
    if (got.length === want.length && timingSafeEqual(got, want)) ok = true;
  }
  if (!ok) return undefined;
  try {
    const v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { l?: unknown; s?: unknown };
    return typeof v.l === 'string' && typeof v.s === 'string' ? { list: v.l, email: v.s } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A valid, unexpired token of `kind`, or undefined. v1 tokens are accepted for
 * unsubscribe and preferences (the only links v1 emails carried).
 */
export function verifyToken(
  keys: readonly Buffer[],
  token: string,
  kind: TokenKind,
  nowMs: number = Date.now(),
): Verified | undefined {
  const [head, body, extra] = token.split('.');
  if (!head || !body || extra !== undefined) return undefined;
  if (head === 'v2') {
    const c = openV2(keys, body, kind);
    if (!c || (c.exp !== undefined && c.exp * 1000 < nowMs)) return undefined;
    return { v: 2, ...c };
  }
  if (kind === 'c') return undefined;
  const v1 = openV1(keys, head, body);
  return v1 && { v: 1, kind: 'u', ...v1 };
}

/** The keys tokens are checked with: the current secret first, then BROADSHEET_SECRET_PREVIOUS. */
export function tokenKeys(current: Buffer, env: NodeJS.ProcessEnv = process.env): Buffer[] {
  const previous = (env.BROADSHEET_SECRET_PREVIOUS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => Buffer.from(s, 'utf8'));
  return [current, ...previous];
}
