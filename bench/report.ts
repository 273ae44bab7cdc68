// bench/report: the edition report (src/report/collect.ts) on a store the size
// of a large newsroom's list — 1M sends of one edition, 50k mail events and
// 200k clicks — against a peer in the same run: a plain
// `SELECT count(*) FROM sends WHERE edition = ?` (what counting the edition's
// ledger alone costs). The report runs a dozen indexed queries; the goal is
// that it costs no more than a few of those counts, never a table scan.
//
//   npx tsx bench/report.ts [--sends N] [--events N] [--clicks N]
// Ends with one JSON line {"bench":"report", …}.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { collectRecent, collectReport, latestEditionSentTo, sentEditions } from '../src/report/collect.ts';
import { openStore } from '../src/store/db.ts';

const { values } = parseArgs({
  options: {
    sends: { type: 'string', default: '1000000' },
    events: { type: 'string', default: '50000' },
    clicks: { type: 'string', default: '200000' },
  },
});
const SENDS = Number(values.sends);
const EVENTS = Number(values.events);
const CLICKS = Number(values.clicks);
const E = 'daily-2026-11-30';
const T0 = Date.parse('2026-11-30T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const dir = mkdtempSync(join(tmpdir(), 'bs-bench-report-'));
const db = openStore(join(dir, 'store.db'));
// Readers are not inserted (the report never reads them): foreign keys off for the fill only.
db.pragma('foreign_keys = OFF');
let t = performance.now();
db.transaction(() => {
  const send = db.prepare(
    `INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at, sent_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const created = iso(T0);
  for (let i = 1; i <= SENDS; i++) {
    const r = i % 100;
    const state =
      r < 94 ? 'sent' : r < 95 ? 'committed' : r < 96 ? 'deferred' : r < 97 ? 'failed' : 'suppressed';
    const at = state === 'sent' ? iso(T0 + Math.floor((i / SENDS) * 3_600_000)) : null;
    send.run(E, i, `r${i}@example.com`, state, `<${E}.${i}@example.com>`, created, created, at);
  }
  // Nine older editions, small: the list pages hop over them.
  for (let k = 1; k <= 9; k++)
    for (let i = 1; i <= 1000; i++)
      send.run(
        `daily-2026-11-${String(30 - k).padStart(2, '0')}`,
        i,
        `r${i}@example.com`,
        'sent',
        `<o${k}.${i}@x>`,
        iso(T0 - k * 86_400_000),
        iso(T0 - k * 86_400_000),
        iso(T0 - k * 86_400_000),
      );
  const ev = db.prepare(
    'INSERT INTO mail_events (kind, source, subscriber_id, edition, external_id, occurred_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const kinds = ['delivered', 'deferred', 'bounce_hard', 'bounce_soft', 'complaint', 'unsubscribe'];
  const sources = ['inbound', 'ses', 'postmark', 'sendgrid', 'mailgun', 'link'];
  for (let i = 0; i < EVENTS; i++)
    ev.run(
      kinds[i % 6],
      sources[(i >> 3) % 6],
      1 + ((i * 7919) % SENDS),
      E,
      `x${i}`,
      iso(T0 + i * 1000),
      iso(T0 + i * 1000),
    );
  const click = db.prepare(
    'INSERT INTO clicks (edition, story, subscriber_id, visitor, method, scanner, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  for (let i = 0; i < CLICKS; i++)
    click.run(
      E,
      `story-${i % 20}`,
      i % 3 ? null : 1 + ((i * 104729) % SENDS),
      `v${(i * 31) % 150000}`,
      'GET',
      i % 20 === 0 ? 1 : 0,
      iso(T0 + ((i * 977) % (60 * 3_600_000))),
    );
})();
db.pragma('foreign_keys = ON');
const fillMs = performance.now() - t;

const median = (f: () => unknown, n = 5) => {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    t = performance.now();
    f();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[Math.floor(n / 2)]!;
};
const count = db.prepare('SELECT count(*) FROM sends WHERE edition = ?').pluck();
const peerMs = median(() => count.get(E));
let report = collectReport(db, E);
const reportMs = median(() => {
  report = collectReport(db, E);
});
const recentMs = median(() => collectRecent(db, 10));
const editionsMs = median(() => sentEditions(db));
const latestMs = median(() => latestEditionSentTo(db, 123_456));

const f = (n: number) => n.toFixed(1);
console.log(
  `store: ${SENDS.toLocaleString('en-US')} sends, ${EVENTS.toLocaleString('en-US')} events, ${CLICKS.toLocaleString('en-US')} clicks (filled in ${f(fillMs / 1000)} s)`,
);
console.log(`peer   count(*) of the edition's sends   ${f(peerMs)} ms`);
console.log(`report one edition (collectReport)       ${f(reportMs)} ms   ${f(reportMs / peerMs)}× the peer`);
console.log(`report --last 10                         ${f(recentMs)} ms`);
console.log(`editions sent (latest first)             ${f(editionsMs)} ms`);
console.log(`latest edition sent to a reader (/u/)    ${f(latestMs)} ms`);
console.log(
  `check: sent ${report.sent}, hard ${report.bounced.hard}, unique clickers ${report.clicks.unique}, scanner ${report.clicks.scannerFiltered}`,
);
console.log(
  JSON.stringify({
    bench: 'report',
    sends: SENDS,
    events: EVENTS,
    clicks: CLICKS,
    peerMs: Number(f(peerMs)),
    reportMs: Number(f(reportMs)),
    ratio: Number((reportMs / peerMs).toFixed(2)),
    lastTenMs: Number(f(recentMs)),
    editionsMs: Number(f(editionsMs)),
    latestForReaderMs: Number(f(latestMs)),
  }),
);
db.close();
rmSync(dir, { recursive: true, force: true });
