// The config is validated jitless (src/config/load.ts, issue 16: zod's
// compiled fast path costs more than it saves on a parse done once per
// process). Both ways must give the same data and the same issues.
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { parseYaml } from '../../src/util/yaml.ts';

const configs: Record<string, string> = {
  empty: '',
  sample: `timezone: Asia/Hong_Kong
locale: en-GB
publicUrl: https://a.example/b/
brand: { name: X, colors: { primary: '#000000' } }
editions: { daily: { title: T, maxArticles: 5 }, evening: { title: E, topics: filter } }
jobs:
  - { name: main, kind: digest, edition: daily }
  - { name: daily, kind: digest, edition: evening, cron: "0 7 * * *", catchUp: 2h }
email: {}
inbound: { allowFrom: [10.0.0.0/8] }
webhooks: { ses: { topicArns: [] } }
`,
  wrongTypes: `timezone: Mars/Olympus
editions: { daily: { maxArticles: "ten" }, Bad-Name: {} }
brand: { colors: { primary: red }, extra: 1 }
jobs: [{ name: x, kind: digest, edition: nope, cron: "61 * * * *" }]
inbound: { allowFrom: [not-an-ip], port: -1 }
analytics: { burst: { links: 1 } }
unknown: 1
`,
  badSuperRefine: 'jobs: [{ name: a, kind: digest, edition: missing }]\n',
  notObjects: 'brand: 3\npaths: []\nemail: nope\nworker: { batchSize: 0.5 }\n',
};

const issues = (r: ReturnType<typeof configSchema.safeParse>) =>
  r.success
    ? []
    : r.error.issues.map((i) => ({ code: i.code, path: i.path, message: i.message, input: i.input }));

describe('config validation jitless', () => {
  for (const [name, text] of Object.entries(configs))
    it(`${name}: same data and issues as with zod's compiled fast path`, () => {
      const raw = (parseYaml(text).value ?? {}) as Record<string, unknown>;
      const jit = configSchema.safeParse(structuredClone(raw), { reportInput: true });
      const jitless = configSchema.safeParse(structuredClone(raw), { reportInput: true, jitless: true });
      expect(jitless.success).toBe(jit.success);
      expect(JSON.stringify(jitless.data)).toBe(JSON.stringify(jit.data));
      expect(issues(jitless)).toEqual(issues(jit));
      if (name === 'sample' || name === 'empty') expect(jit.success).toBe(true);
      else expect(issues(jit).length).toBeGreaterThan(0);
    });
});
