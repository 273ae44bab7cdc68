import { PublishError } from '../publisher.ts';
import { httpFailure } from './social.ts';

// Meta's Graph APIs (Facebook Pages, Instagram, Threads) by fetch: there is no
// well-kept Node client for them (facebook-nodejs-business-sdk targets the
// Marketing API and lags the Graph versions). Calls carry access_token as a
// parameter, as documented; a URL is never put in an error or a log line, so
// the token cannot leak through either.
//
// Errors come as {error: {message, type, code, error_subcode}}. Throttling is
// not always a 429: codes 4, 17, 32, 613 and 80001–80014 (with HTTP 400/403)
// mean "too many calls", with the wait in X-Business-Use-Case-Usage
// (estimated_time_to_regain_access, minutes); they are retried like a 429.

const THROTTLE = new Set([4, 17, 32, 613]);

function regainMs(h: Headers): number | undefined {
  for (const name of ['x-business-use-case-usage', 'x-app-usage']) {
    const v = h.get(name);
    if (!v) continue;
    try {
      const j = JSON.parse(v) as Record<string, { estimated_time_to_regain_access?: number }[]>;
      const mins = Object.values(j)
        .flat()
        .map((u) => u?.estimated_time_to_regain_access ?? 0);
      if (mins.length) return Math.max(...mins) * 60_000;
    } catch {}
  }
  return undefined;
}

export interface GraphOptions {
  label: string;
  base: string;
  token: string;
  timeoutMs: number;
}

/** One Graph call; the parsed JSON on 2xx, a PublishError otherwise. */
export async function graph<T>(
  o: GraphOptions,
  method: 'GET' | 'POST',
  path: string,
  params: Record<string, string | undefined> = {},
  file?: { field: string; data: Buffer; mime: string },
): Promise<T> {
  const url = new URL(`${o.base}${path}`);
  const all = { ...params, access_token: o.token };
  let body: FormData | URLSearchParams | undefined;
  if (method === 'GET')
    for (const [k, v] of Object.entries(all)) v !== undefined && url.searchParams.set(k, v);
  else if (file) {
    const f = new FormData();
    for (const [k, v] of Object.entries(all)) if (v !== undefined) f.set(k, v);
    f.set(file.field, new Blob([new Uint8Array(file.data)], { type: file.mime }), 'card');
    body = f;
  } else {
    body = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  }
  let res: Response;
  try {
    res = await fetch(url, { method, body, redirect: 'error', signal: AbortSignal.timeout(o.timeoutMs) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw httpFailure(
      o.label,
      undefined,
      `${method} ${path} failed: ${e.cause?.code ?? e.name} ${e.message}`,
      undefined,
      err,
    );
  }
  const text = await res.text().catch(() => '');
  let json: { error?: { message?: string; code?: number; error_subcode?: number; type?: string } } = {};
  try {
    json = JSON.parse(text);
  } catch {}
  if (res.ok && !json.error) return json as T;
  const err = json.error;
  const msg = err?.message ?? (text.slice(0, 200) || res.statusText);
  const code = err?.code;
  if (code !== undefined && (THROTTLE.has(code) || (code >= 80001 && code <= 80014)))
    return Promise.reject(
      new PublishError(
        `${o.label}: ${res.status} ${msg} (code ${code})`,
        false,
        regainMs(res.headers) ?? 60_000,
      ),
    );
  // The Graph error code rides along so a caller can tell "no such field" (100) or
  // "no permission" (10, 200–299) from other refusals without parsing the words.
  throw Object.assign(
    httpFailure(o.label, res.status, code !== undefined ? `${msg} (code ${code})` : msg, (n) =>
      res.headers.get(n),
    ),
    { graphCode: code },
  );
}

/** The Graph error code of a failed call, when Graph gave one. */
export const graphCode = (err: unknown): number | undefined => (err as { graphCode?: number })?.graphCode;

/** Graph's "permission not granted" codes: (#10) and (#200)–(#299). */
export const isPermissionError = (err: unknown) => {
  const c = graphCode(err);
  return c === 10 || (c !== undefined && c >= 200 && c <= 299);
};

/**
 * `publish --check`'s look at a Meta token's permissions: GET /me/permissions
 * lists {permission, status: granted|declined} for a USER token. A Page token's
 * /me is the Page, which has no permissions edge (Graph answers code 100);
 * reading that token's scopes needs debug_token with an app token, i.e. the
 * app secret, which Broadsheet does not hold — so then we say what is not known.
 */
export async function tokenPermissions(
  o: GraphOptions,
  needed: readonly string[],
): Promise<{ missing: string[] } | { unverifiable: string }> {
  let r: { data?: { permission: string; status: string }[] };
  try {
    r = await graph(o, 'GET', '/me/permissions');
  } catch (err) {
    if (graphCode(err) !== 100) throw err;
    return {
      unverifiable: `scopes not verifiable without the app secret (a Page token cannot list them): needs ${needed.join(', ')}`,
    };
  }
  const status = new Map((r.data ?? []).map((p) => [p.permission, p.status]));
  return {
    missing: needed
      .filter((n) => status.get(n) !== 'granted')
      .map((n) => (status.get(n) ? `${n} (${status.get(n)})` : n)),
  };
}

/** Wait until a media container is ready (Instagram, Threads process the image from its URL). */
export async function waitForContainer(
  o: GraphOptions,
  id: string,
  field: 'status_code' | 'status',
  tries = 10,
  pauseMs = 1000,
) {
  for (let i = 0; i < tries; i++) {
    const r = await graph<{ status_code?: string; status?: string; error_message?: string }>(
      o,
      'GET',
      `/${id}`,
      {
        fields: field === 'status' ? 'status,error_message' : 'status_code,status',
      },
    );
    const s = r.status_code ?? r.status;
    if (s === 'FINISHED' || s === 'PUBLISHED') return;
    if (s === 'ERROR' || s === 'EXPIRED')
      throw new PublishError(
        `${o.label}: the image could not be processed (${r.error_message ?? r.status ?? s})`,
        true,
      );
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  throw new PublishError(`${o.label}: the image was still processing after ${tries} checks`, false);
}
