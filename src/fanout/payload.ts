import type { Context } from '../context.ts';
import type { Digestish, SendInput } from '../delivery/send.ts';
import { type BuiltVariant, compileTopicVariants, topicKey } from '../delivery/topics.ts';
import { BroadsheetError } from '../errors/index.ts';
import { type PgPool, withTransaction } from '../store/pg/pool.ts';

// What a worker needs to compose an edition's messages without a shared disk:
// the edition's SendInput (ids, list, the rendered digest and its locale
// variants) and the readers' topic variants (issue 14), written by `send`.
// The edition's digest is first-write-wins, so a repeated send never changes
// what readers of the same edition get; a repeated send only ADDS the variants
// of topic sets that were not there yet (a reader who chose new topics since),
// never replacing one. A worker picks a reader's variant by the topics on the
// ledger row it claims (subscribers.topics at claim time); a set with no
// variant in the payload gets the edition's digest.

export interface FanoutPayload extends SendInput {
  topics?: {
    /** Every topic key the payload has considered (a key absent from `digests` reads the edition's digest). */
    keys: string[];
    /** Compiled variants, by topic key (topicKey). */
    digests: Record<string, Digestish>;
  };
}

/** The variant for a reader whose subscribers.topics (JSON text) is `topics`. */
export function digestForTopics(p: FanoutPayload, topics: string | null | undefined): Digestish {
  if (!topics || topics === '[]' || !p.topics) return p.digest;
  return p.topics.digests[topicKey(JSON.parse(topics) as string[])] ?? p.digest;
}

export const variantCount = (p: FanoutPayload) => (p.topics ? Object.keys(p.topics.digests).length : 0);

const readPayload = async (q: Pick<PgPool, 'query'>, edition: string, lock = false) => {
  const r = await q.query<{ payload: string }>(
    `SELECT payload FROM send_payloads WHERE edition = $1${lock ? ' FOR UPDATE' : ''}`,
    [edition],
  );
  return r.rows[0] ? (JSON.parse(r.rows[0].payload) as FanoutPayload) : undefined;
};

/**
 * The payload of this send: the stored one, plus variants for topic sets of
 * active readers it has not seen (compiled here, then added under a row lock).
 * A dry run compiles what is missing and writes nothing.
 */
export async function preparePayload(
  ctx: Context,
  pool: PgPool,
  input: SendInput,
  opts: { dryRun?: boolean } = {},
): Promise<{ payload: FanoutPayload; built: BuiltVariant[]; variants: number }> {
  const sets = (
    await pool.query<{ topics: string }>(
      "SELECT DISTINCT topics FROM subscribers WHERE status = 'active' AND topics <> '[]'",
    )
  ).rows.map((r) => r.topics);
  const stored = await readPayload(pool, input.editionId);
  const base: FanoutPayload = stored ?? { ...input };
  const known = new Set(base.topics?.keys ?? []);
  const c = await compileTopicVariants(ctx, base, sets, { dryRun: opts.dryRun, known });
  const add = (p: FanoutPayload): FanoutPayload => {
    const keys = new Set(p.topics?.keys ?? []);
    const digests = { ...(p.topics?.digests ?? {}) };
    let added = 0;
    for (const [k, d] of c.byKey) {
      if (keys.has(k)) continue;
      keys.add(k);
      added++;
      if (d !== base.digest) digests[k] = d;
    }
    return added ? { ...p, topics: { keys: [...keys], digests } } : p;
  };
  if (opts.dryRun) {
    const payload = add(base);
    return { payload, built: c.built, variants: variantCount(payload) };
  }
  const now = ctx.clock.now().toISOString();
  const payload = await withTransaction(pool, async (q) => {
    const current = await readPayload(q, input.editionId, true);
    const next = add(current ?? base);
    if (!current)
      await q.query(
        'INSERT INTO send_payloads (edition, payload, created_at) VALUES ($1, $2, $3) ON CONFLICT (edition) DO NOTHING',
        [input.editionId, JSON.stringify(next), now],
      );
    else if (next !== current)
      await q.query('UPDATE send_payloads SET payload = $2 WHERE edition = $1', [
        input.editionId,
        JSON.stringify(next),
      ]);
    return next;
  });
  const variants = variantCount(payload);
  if (c.built.length || variants)
    ctx.logger.info(
      { edition: input.editionId, topicVariants: variants, compiled: c.compiled, added: c.built.length },
      `digest: ${variants} topic variant(s) in the payload, ${c.built.length} new`,
    );
  return { payload, built: c.built, variants };
}

/** Whether the payload has considered this reader's topic set (else a newer send may have added it). */
export function knowsTopics(p: FanoutPayload, topics: string | null | undefined): boolean {
  if (!topics || topics === '[]') return true;
  return Boolean(p.topics?.keys.includes(topicKey(JSON.parse(topics) as string[])));
}

/** Payloads read once per process and edition; `fresh` reads it again (a later send may have added variants). */
export function payloadCache(pool: PgPool): (edition: string, fresh?: boolean) => Promise<FanoutPayload> {
  const cache = new Map<string, Promise<FanoutPayload>>();
  return (edition, fresh) => {
    let p = fresh ? undefined : cache.get(edition);
    if (!p) {
      p = readPayload(pool, edition).then((x) => {
        if (!x) throw new BroadsheetError('FANOUT_PAYLOAD_MISSING', { edition });
        return x;
      });
      p.catch(() => cache.delete(edition));
      cache.set(edition, p);
    }
    return p;
  };
}
