// fast.ts validates a config file with only the sections it has and takes the
// others' defaults from the build (issue 16). Its result must be load.ts's,
// value for value and key for key; whatever it cannot do cleanly it hands
// back (undefined) for load.ts to report.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldDefaults } from '../../src/config/defaults.ts';
import { fastConfig, intlVersions, readFieldDefaults } from '../../src/config/fast.ts';
import { configFromText } from '../../src/config/load.ts';
import { configShape } from '../../src/config/schema.ts';
import { CONFIG_KEYS } from '../../src/config/top.ts';

// As the build writes them: through v8 serialization.
const defaults = deserialize(serialize(fieldDefaults())) as ReturnType<typeof fieldDefaults>;

/** Valid and invalid values for each field, as YAML lines. */
const fields: Record<string, string[]> = {
  timezone: ['timezone: Europe/London', 'timezone: Mars/Olympus'],
  locale: ['locale: en-GB', 'locale: xx'],
  publicUrl: ['publicUrl: https://a.example/b/', 'publicUrl: ftp://a'],
  brand: ['brand: { name: X, url: "https://x.example/" }', 'brand: { colors: { primary: red } }'],
  paths: ['paths: { out: o }', 'paths: { nope: 1 }'],
  editions: ['editions: { daily: { title: T }, evening: { maxArticles: 3 } }', 'editions: { Bad: {} }'],
  email: ['email: {}', 'email: { from: "A <a@b.example>" }', 'email: 3'],
  delivery: ['delivery: { domain: d.example }', 'delivery: { nope: true }'],
  inbound: ['inbound: { allowFrom: [10.0.0.0/8], port: 2526 }', 'inbound: { allowFrom: [not-an-ip] }'],
  webhooks: ['webhooks: { maxAgeSeconds: 60 }', 'webhooks: { maxAgeSeconds: 1 }'],
  analytics: ['analytics: { burst: { links: 5 } }', 'analytics: { burst: { links: 1 } }'],
  worker: ['worker: { batchSize: 10 }', 'worker: { batchSize: 0.5 }'],
  jobs: [
    'jobs: [{ name: main, kind: digest, edition: daily }, { name: i, kind: ingest, cron: "*/5 * * * *" }]',
    'jobs: [{ name: a, kind: digest, edition: missing }]',
    'jobs: [{ name: a, kind: digest, cron: "61 * * * *" }]',
  ],
  store: ['store: {}'],
  unknown: ['colour: red'],
  null: ['ops: null', 'review: ~'],
};

const file = '/x/broadsheet.config.yaml';
const full = (text: string | undefined, env: NodeJS.ProcessEnv) => {
  try {
    return configFromText(file, text, { env }).config;
  } catch {
    return 'error';
  }
};

async function same(text: string | undefined, env: NodeJS.ProcessEnv = {}) {
  const want = full(text, env);
  const got = await fastConfig(file, text, defaults, env);
  if (want === 'error') expect(got).toBeUndefined();
  else {
    expect(got).toEqual(want);
    // Same keys in the same order (JSON of the config feeds hashes, e.g. the digest cache).
    expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  }
  return want !== 'error';
}

describe('config validated section by section (fast.ts)', () => {
  it('lists every field of schema.ts, in its order', () => {
    expect(CONFIG_KEYS).toEqual(Object.keys(configShape));
  });

  it('no file, an empty file, the sample file and env overrides: the same config as load.ts', async () => {
    const sample = (await import('node:fs')).readFileSync(
      join(import.meta.dirname, '../../broadsheet.config.yaml'),
      'utf8',
    );
    expect(await same(undefined)).toBe(true);
    expect(await same('')).toBe(true);
    expect(await same(sample)).toBe(true);
    expect(
      await same(sample, { BROADSHEET_PUBLIC_URL: 'https://p.example/', BROADSHEET_TIMEZONE: 'UTC' }),
    ).toBe(true);
    expect(await same('email: { from: "A <a@b.example>" }', { BROADSHEET_LOCALE: 'en-US' })).toBe(true);
  });

  it('hands back YAML errors, secrets, unknown fields and failed checks', async () => {
    for (const text of ['a: [', '- 1', 'smtp: { password: x }', 'colour: red', fields.jobs![1]!])
      expect(await fastConfig(file, text, defaults, {})).toBeUndefined();
  });

  it('any mix of valid and invalid fields: the same config as load.ts, or handed back', async () => {
    const lines = Object.values(fields).flat();
    let valid = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.constantFrom(...lines), { maxLength: 6 }), async (picked) => {
        // One line per field: YAML refuses a key given twice.
        const seen = new Set<string>();
        const text = picked
          .filter((l) => !seen.has(l.split(':')[0]!) && seen.add(l.split(':')[0]!))
          .join('\n');
        if (await same(text)) valid++;
      }),
      { seed: 16, numRuns: 150 },
    );
    expect(valid).toBeGreaterThan(5);
  });

  it('reads the defaults only for its own build and Intl', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'bs-defaults-')), 'config-defaults.v8');
    writeFileSync(f, serialize({ buildId: 'b1', versions: intlVersions(), defaults }));
    expect(readFieldDefaults(f, 'b1')).toEqual(defaults);
    expect(readFieldDefaults(f, 'b2')).toBeUndefined();
    writeFileSync(f, serialize({ buildId: 'b1', versions: { ...intlVersions(), icu: '0' }, defaults }));
    expect(readFieldDefaults(f, 'b1')).toBeUndefined();
    writeFileSync(f, 'torn');
    expect(readFieldDefaults(f, 'b1')).toBeUndefined();
  });
});
