import type { DB } from '../../src/store/db.ts';

/**
 * A newsroom's store with realistic rows in EVERY table (issue 17, store copy):
 * Traditional Chinese and emoji text, NULLs, a binary blob with every byte
 * value, epoch-ms integers above 2^31. A table a later migration adds has no
 * row here until someone adds one: tests/integration/store-copy.test.ts fails
 * and names it, so every table is seen to survive a copy.
 *
 * Rows are objects (column → value): a column added later is left to its
 * default. Lease rows are expired unless `liveSendLease` is given.
 */
const T0 = 1_765_330_000_000; // 2025-12-10, epoch ms (> 2^31)
const iso = (ms: number) => new Date(ms).toISOString();
const BLOB = Buffer.from([...Array(256).keys()]); // 0x00 … 0xff

export const FIXTURE: Record<string, Record<string, unknown>[]> = {
  subscribers: [
    {
      id: 1,
      email: 'chan.taiman@example.hk',
      name: '陳大文 📰',
      locale: 'zh-Hant-HK',
      topics: '["科技","經濟"]',
      status: 'active',
      status_reason: null,
      source: 'form',
      created_at: iso(T0),
      updated_at: iso(T0),
      status_at: null,
      editions: '["daily"]',
      paused_until: null,
    },
    {
      id: 7,
      email: 'wong.siuming@example.com',
      name: null,
      locale: null,
      topics: '[]',
      status: 'bounced',
      status_reason: '550 5.1.1 用戶不存在',
      source: 'import',
      created_at: iso(T0 + 1),
      updated_at: iso(T0 + 2),
      status_at: iso(T0 + 2),
      editions: null,
      paused_until: '2026-01-01',
    },
  ],
  sends: [
    {
      edition: 'daily-2025-12-10',
      subscriber_id: 1,
      email: 'chan.taiman@example.hk',
      state: 'sent',
      attempts: 1,
      last_error: null,
      message_id: '<daily-2025-12-10.1@news.example.hk>',
      transport: 'smtp',
      response: '250 2.0.0 OK 已接收',
      created_at: iso(T0),
      updated_at: iso(T0 + 5),
      sent_at: iso(T0 + 5),
      worker: 'host-b.4242',
      claimed_until: T0 + 60_000,
    },
    {
      edition: 'daily-2025-12-10',
      subscriber_id: 7,
      email: 'wong.siuming@example.com',
      state: 'failed',
      attempts: 3,
      last_error: '550 mailbox unavailable',
      message_id: '<daily-2025-12-10.7@news.example.hk>',
      transport: 'smtp',
      response: null,
      created_at: iso(T0),
      updated_at: iso(T0 + 9),
      sent_at: null,
    },
  ],
  runs: [
    {
      id: 3,
      kind: 'send',
      edition: 'daily-2025-12-10',
      pid: 4242,
      started_at: iso(T0),
      finished_at: iso(T0 + 9000),
      status: 'ok',
      summary: '{"sent":1,"failed":1}',
    },
  ],
  leases: [
    { name: 'send:daily-2025-12-09', holder: '4242.abcdef', pid: 4242, host: 'host-a', expires_at: T0 },
  ],
  review_posts: [
    {
      edition: 'daily-2025-12-10',
      item_id: 'ai-users',
      platform: 'threads',
      status: 'approved',
      format: 'square',
      caption: '數讀中國AI發展：用戶規模超5億人 🤖',
      editor: '李編輯',
      updated_at: iso(T0),
    },
  ],
  review_events: [
    {
      id: 11,
      edition: 'daily-2025-12-10',
      item_id: 'ai-users',
      platform: 'threads',
      action: 'approve',
      caption: null,
      editor: '李編輯',
      at: iso(T0),
    },
  ],
  publish_queue: [
    {
      id: 5,
      idem_key: 'k-5f1e',
      publisher: 'mastodon',
      edition: 'daily-2025-12-10',
      item_id: 'ai-users',
      platform: 'mastodon',
      format: 'square',
      caption: '數讀｜AI 企業超5300家',
      state: 'published',
      attempts: 1,
      last_error: null,
      response: '{"id":"1"}',
      editor: '李編輯',
      created_at: iso(T0),
      updated_at: iso(T0 + 1),
      published_at: iso(T0 + 1),
      due_at: null,
      post_id: '1',
      post_url: 'https://social.example/@news/1',
      claimed_by: 'serve-2',
      claim_until: T0 + 30_000,
    },
  ],
  login_failures: [{ client: '203.0.113.9', at: T0 }],
  job_runs: [
    {
      id: 9,
      job: 'main',
      kind: 'main',
      occurrence: '2025-12-10T07:00+08:00',
      trigger: 'schedule',
      outcome: 'ok',
      attempts: 1,
      pid: 4242,
      host: 'host-a',
      started_at: iso(T0),
      finished_at: iso(T0 + 1000),
      edition: 'daily-2025-12-10',
      counts: '{"sent":1}',
      summary: '完成',
      error: null,
      created_at: iso(T0),
    },
  ],
  scheduler_heartbeats: [
    {
      instance: 'host-a.4242',
      pid: 4242,
      host: 'host-a',
      started_at: iso(T0),
      beat_at: iso(T0),
      interval_ms: 15000,
      state: 'running',
      jobs: '["main"]',
      running: '[]',
    },
  ],
  editors: [
    {
      id: 2,
      name: '李編輯',
      role: 'admin',
      password_hash: '$scrypt$N=16384$c2FsdA$aGFzaA',
      created_at: iso(T0),
      updated_at: iso(T0),
    },
  ],
  editor_sessions: [
    {
      id: 'sess-1',
      verifier_hash: 'f'.repeat(64),
      editor_id: 2,
      editor_name: '李編輯',
      role: 'admin',
      bootstrap_tag: null,
      created_at: T0,
      last_seen_at: T0 + 1,
      expires_at: T0 + 86_400_000,
      ip_hash: 'iphash',
      user_agent: 'Mozilla/5.0 🦊',
      revoked_at: null,
      revoked_reason: null,
    },
  ],
  consent: [
    {
      id: 4,
      subscriber_id: 1,
      source: 'form',
      list: 'daily',
      signup_at: iso(T0),
      confirmed_at: iso(T0 + 60_000),
      ip_hash: 'kh:ip',
      detail: '{"form":"首頁"}',
      created_at: iso(T0),
    },
  ],
  suppression: [{ hash: 'kh:forgotten', reason: 'forgotten', created_at: iso(T0) }],
  signups: [
    {
      id: 8,
      email: 'pending@example.hk',
      name: '何小姐',
      locale: 'zh-Hant-HK',
      topics: '[]',
      list: 'daily',
      ip_hash: null,
      created_at: iso(T0),
      expires_at: iso(T0 + 172_800_000),
      confirmed_at: null,
    },
  ],
  confirm_sends: [
    {
      signup_id: 8,
      state: 'sent',
      message_id: '<confirm.8@news.example.hk>',
      transport: 'smtp',
      response: '250 OK',
      created_at: iso(T0),
      updated_at: iso(T0),
    },
  ],
  signup_hits: [{ key: 'ip:kh', at: T0 }],
  inbound_messages: [
    {
      id: 6,
      received_at: iso(T0),
      source: 'inbound',
      mail_from: '<>',
      rcpt_to: 'bounce+7@news.example.hk',
      size: BLOB.length,
      classified: 'bounce_hard',
      raw: BLOB,
    },
    {
      id: 10,
      received_at: iso(T0 + 1),
      source: 'imap',
      mail_from: null,
      rcpt_to: null,
      size: 0,
      classified: 'unknown',
      raw: null,
    },
  ],
  mail_events: [
    {
      id: 12,
      kind: 'bounce_hard',
      source: 'inbound',
      subscriber_id: 7,
      edition: 'daily-2025-12-10',
      status: '5.1.1',
      detail: '用戶不存在',
      external_id: '<dsn.1@mx.example.com>',
      inbound_id: 6,
      action: 'suppressed',
      occurred_at: iso(T0),
      received_at: iso(T0),
    },
  ],
  clicks: [
    {
      id: 13,
      edition: 'daily-2025-12-10',
      story: 'ai-users',
      subscriber_id: 1,
      visitor: 'v1',
      method: 'GET',
      scanner: 0,
      at: iso(T0),
    },
  ],
  opens: [{ edition: 'daily-2025-12-10', visitor: 'v1', subscriber_id: null, at: iso(T0) }],
  process_heartbeats: [
    {
      instance: 'host-a.worker.1',
      role: 'worker',
      host: 'host-a',
      pid: 4243,
      started_ms: T0,
      beat_ms: T0 + 5000,
      interval_ms: 5000,
      state: 'running',
      detail: '{"batches":2}',
    },
  ],
  send_payloads: [
    { edition: 'daily-2025-12-10', payload: '{"subject":"大公報 數讀 📊"}', created_at: iso(T0) },
  ],
  rate_buckets: [{ name: 'smtp', tat_us: T0 * 1000 }],
};

const q = (n: string) => `"${n.replaceAll('"', '""')}"`;

/** Put FIXTURE's rows into a migrated SQLite store (one transaction). */
export function fillStore(db: DB): void {
  db.transaction(() => {
    for (const [table, rows] of Object.entries(FIXTURE))
      for (const row of rows) {
        const cols = Object.keys(row);
        db.prepare(
          `INSERT INTO ${q(table)} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        ).run(...cols.map((c) => row[c]));
      }
  })();
}

/** A live send lease, as a running `broadsheet send` on another host holds it. */
export function holdSendLease(db: DB, edition = 'daily-2025-12-11'): void {
  db.prepare('INSERT INTO leases (name, holder, pid, host, expires_at) VALUES (?, ?, ?, ?, ?)').run(
    `send:${edition}`,
    '999.feedbeef',
    999,
    'mail-host-b',
    Date.now() + 600_000,
  );
}

/** A fan-out worker's live claim on a ledger row (sends.worker / claimed_until), as mid-batch. */
export function holdWorkerClaim(db: DB, worker = 'mail-host-c.31337'): void {
  db.prepare("UPDATE sends SET worker = ?, claimed_until = ?, state = 'queued' WHERE subscriber_id = 1").run(
    worker,
    Date.now() + 600_000,
  );
}

/** `n` more subscribers (ids after the fixture's), for big-table tests. */
export function addSubscribers(db: DB, n: number): void {
  const st = db.prepare(
    "INSERT INTO subscribers (email, name, locale, topics, status, source, created_at, updated_at) VALUES (?, ?, 'zh-Hant-HK', '[]', 'active', 'import', ?, ?)",
  );
  const at = iso(T0);
  db.transaction(() => {
    for (let i = 0; i < n; i++) st.run(`reader${i}@example.hk`, `讀者 ${i} 📬`, at, at);
  })();
}

/** Every table of an SQLite store: name → its rows, sorted (for deep comparison). */
export function dumpStore(db: DB): Record<string, unknown[][]> {
  const out: Record<string, unknown[][]> = {};
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  for (const t of tables) {
    const n = (db.prepare(`PRAGMA table_info(${q(t)})`).all() as unknown[]).length;
    const order = Array.from({ length: n }, (_, i) => i + 1).join(', ');
    out[t] = db
      .prepare(`SELECT * FROM ${q(t)} ORDER BY ${order}`)
      .raw(true)
      .all() as unknown[][];
  }
  return out;
}
