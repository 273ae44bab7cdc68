// What `npm start` does (`node bin/broadsheet.js run main`), end to end, in a
// temp copy of the working setup: build the latest edition, import the sample
// readers from content/subscribers.csv into the empty store, deliver the
// digest to the outbox; a second run sends nobody twice. And the guard: with
// SMTP_URL pointing at a real SMTP server (smtp-server on 127.0.0.1), the
// sample readers are never delivered to it, and the CLI says why.
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { read, run } from '../helpers/daemon.ts';
import { fewCardsText } from '../helpers/few-cards.ts';
import { seedOut } from '../helpers/prebuilt.ts';
import { cleanEnv, copyWorkingSetup } from '../helpers/workspace.ts';

let sink: SMTPServer;
let port: number;
let connections = 0;
const messages: string[] = [];

beforeAll(async () => {
  sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_s, cb) {
      connections++;
      cb();
    },
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => {
        messages.push(...session.envelope.rcptTo.map((r) => r.address));
        cb();
      });
    },
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  port = (sink.server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => sink.close(() => r())));

/** The sample readers: the address column of content/subscribers.csv. */
function sampleReaders(dir: string): string[] {
  const [, ...lines] = readFileSync(join(dir, 'content', 'subscribers.csv'), 'utf8')
    .trim()
    .split('\n');
  return lines.map((l) => l.split(',')[0]!.trim().toLowerCase());
}

const main = (dir: string, env: NodeJS.ProcessEnv) => run(['run', 'main'], { cwd: dir, env });
const storeOf = (dir: string) => join(dir, 'data', 'broadsheet.db');
const activeReaders = (dir: string) =>
  read(storeOf(dir), (d) =>
    d.prepare("SELECT email FROM subscribers WHERE status = 'active' ORDER BY email").pluck().all(),
  ) as string[];

describe('npm start (run main)', () => {
  let dir: string;

  it('builds the edition, imports the sample readers and writes one .eml per active reader; a second run sends 0', async () => {
    dir = copyWorkingSetup('bs-runmain-');
    const first = await main(dir, cleanEnv());
    expect(first.code, first.stderr).toBe(0);
    const built = first.stdout.match(
      /built (daily-\d{4}-\d{2}-\d{2}) → out\/\1\/ \((\d+) articles, (\d+) stat sets, (\d+) cards/,
    );
    expect(built, first.stdout).not.toBeNull();
    const edition = built![1]!;
    expect(Number(built![4])).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'out', edition, 'manifest.json'), 'utf8'));
    expect(manifest.edition.id).toBe(edition);
    expect(manifest.failures).toEqual([]);
    expect(manifest.digest.html).toBe('digest/index.html');

    // import: every sample reader is in the store, active
    const readers = sampleReaders(dir);
    expect(activeReaders(dir)).toEqual([...readers].sort());
    // deliver: one .eml per active reader, addressed to them
    const outbox = join(dir, 'out', edition, 'outbox');
    const eml = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    expect(eml).toHaveLength(readers.length);
    for (const f of eml) {
      const to = readFileSync(join(outbox, f), 'utf8').match(/^To: (.*)$/m)?.[1] ?? '';
      expect(readers.some((r) => to.toLowerCase().includes(r))).toBe(true);
    }
    expect(first.stdout).toMatch(new RegExp(`${edition} via outbox: sent ${readers.length},`));
    const runRow = read(storeOf(dir), (d) =>
      d.prepare("SELECT outcome, counts FROM job_runs WHERE job = 'main'").get(),
    ) as {
      outcome: string;
      counts: string;
    };
    expect(runRow.outcome).toBe('ok');
    expect(JSON.parse(runRow.counts)).toMatchObject({ delivered: readers.length });

    // again: the ledger already has everyone
    const second = await main(dir, cleanEnv());
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`${edition} via outbox: sent 0,`));
    expect(readdirSync(outbox).filter((f) => f.endsWith('.eml'))).toHaveLength(readers.length);
    expect(connections).toBe(0);
  }, 180_000);

  it('with SMTP_URL set and an empty store: the sample readers are not imported, nothing reaches the server, and it says why', async () => {
    const fresh = copyWorkingSetup('bs-runmain-smtp-');
    // Few cards: this case is about the SMTP guard; the first case builds the
    // full sample as `npm start` does.
    appendFileSync(join(fresh, 'broadsheet.config.yaml'), '\ncards:\n  formats: [og]\n  kinds: [statset]\n');
    // Its cards made once per run (the build keeps them unchanged); the digest is rendered here.
    seedOut(join(fresh, 'out'), fewCardsText());
    const r = await main(fresh, cleanEnv({ SMTP_URL: `smtp://127.0.0.1:${port}` }));
    expect(r.code, r.stderr).toBe(0);
    expect(messages).toEqual([]);
    expect(connections).toBe(0);
    expect(activeReaders(fresh)).toEqual([]);
    const warn = r.lines.find(
      (l) => l.level === 40 && /no readers in the store: nothing delivered through smtp/.test(l.msg ?? ''),
    );
    expect(warn?.msg).toMatch(/subscribers\.csv are imported only for the outbox/);
    expect(warn?.msg).toMatch(/broadsheet subscribers import/);
    expect(r.stdout).toMatch(/nothing delivered through smtp: no readers in the store/);
  }, 180_000);

  it('with SMTP_URL set and the sample readers already in the store (from an outbox run): refused, SAMPLE_READERS_SMTP, exit 2', async () => {
    // `dir` holds the readers imported by the first test's outbox run.
    const r = await main(dir, cleanEnv({ SMTP_URL: `smtp://127.0.0.1:${port}` }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error SAMPLE_READERS_SMTP: /m);
    expect(r.stderr).toMatch(/^hint: .*broadsheet subscribers remove/m);
    expect(messages).toEqual([]);
    expect(connections).toBe(0);
    const row = read(storeOf(dir), (d) =>
      d.prepare("SELECT outcome, error FROM job_runs WHERE job = 'main' ORDER BY id DESC LIMIT 1").get(),
    ) as { outcome: string; error: string };
    expect(row).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/^SAMPLE_READERS_SMTP: /) });
  }, 180_000);
});
