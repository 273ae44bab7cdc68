import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { freePort } from '../fixtures/inbound/servers/dovecot.ts';
import { fixture, inboundWorld } from '../fixtures/inbound/store.ts';
import { ROOT } from '../helpers/cli.ts';
import { run, start } from '../helpers/daemon.ts';

// `broadsheet inbound` as a user runs it: node bin/broadsheet.js, the sample
// config (sender domain news.example.com), a store seeded with the inbound
// fixtures' readers and sends, the secret their VERP tokens were made with.

const VERP_1 = 'bounces+qxwcugmiev2aazoz42gadgkqjy@news.example.com';
const env = { BROADSHEET_SECRET: 'inbound-fixture-secret', IMAP_URL: '' };
const args = (store: string, ...rest: string[]) => [
  'inbound',
  '--config',
  join(ROOT, 'broadsheet.config.yaml'),
  '--store',
  store,
  ...rest,
];

describe('broadsheet inbound (CLI)', () => {
  it('listens, stores a hard DSN and bounces its reader, then exits 0 on SIGTERM', async () => {
    const w = inboundWorld();
    const store = join(w.dir, 'data', 'b.db');
    const p = start(args(store, '--port', '0'), { env });
    const line = await p.waitLine(/SMTP listening on/);
    const port = Number(line.port);
    expect(port).toBeGreaterThan(0);
    const info = await createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }).sendMail({
      envelope: { from: '', to: [VERP_1] },
      raw: fixture('postfix-hard-5.1.1.eml'),
    });
    expect(info.response).toMatch(/^250 /);
    expect(w.status(1)).toBe('bounced');
    // What it printed for people (written just after the log line above).
    expect(p.stdout()).toContain(`listening on smtp://127.0.0.1:${port}`);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.lines.some((l) => /inbound stopped \(1 message/.test(l.msg ?? ''))).toBe(true);
  });

  // One test, the runs side by side: each is a separate CLI start (the slow part).
  it('faults end with their code: port in use (1), IMAP refused (1), no IMAP_URL (2), --once alone (2)', async () => {
    const w = inboundWorld();
    const store = join(w.dir, 'data', 'b.db');
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const closed = await freePort();
    try {
      const [inUse, refused, noUrl, onceAlone] = await Promise.all([
        run(args(store, '--port', String((busy.address() as AddressInfo).port)), { env }),
        run(args(store, '--imap', '--once'), {
          env: { ...env, IMAP_URL: `imap://u:p@127.0.0.1:${closed}/INBOX` },
        }),
        run(args(store, '--imap'), { env }),
        run(args(store, '--once'), { env }),
      ]);
      expect([inUse.code, inUse.stderr]).toEqual([1, expect.stringContaining('INBOUND_PORT_IN_USE')]);
      expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('INBOUND_IMAP_REFUSED')]);
      expect([noUrl.code, noUrl.stderr]).toEqual([2, expect.stringContaining('INBOUND_IMAP_URL')]);
      expect([onceAlone.code, onceAlone.stderr]).toEqual([2, expect.stringContaining('use it with --imap')]);
    } finally {
      busy.close();
    }
  });
});
