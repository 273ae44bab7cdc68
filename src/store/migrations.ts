// Schema migrations, applied in order; PRAGMA user_version records how many
// ran. Append a new entry for a change — never edit one that has shipped.
export const migrations: string[] = [
  `
  CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    locale TEXT,
    topics TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','unsubscribed','bounced','complained')),
    status_reason TEXT,
    source TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status_at TEXT
  );
  -- One row per edition × subscriber: the send ledger.
  --   queued     to send
  --   committed  the message's end-of-data was about to be handed to the server (see send.ts):
  --              in doubt after a crash, counted as delivered, never sent twice
  --   sent       the server accepted it (250)
  --   deferred   transient failures used up this run's retries; the next run tries again
  --   failed     permanent failure (the subscriber is marked bounced)
  --   suppressed the subscriber was no longer active when its turn came
  CREATE TABLE sends (
    edition TEXT NOT NULL,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
    email TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','committed','sent','deferred','failed','suppressed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    message_id TEXT NOT NULL,
    transport TEXT,
    response TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT,
    PRIMARY KEY (edition, subscriber_id)
  ) WITHOUT ROWID;
  CREATE INDEX sends_state ON sends (edition, state);
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    edition TEXT,
    pid INTEGER,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    summary TEXT
  );
  -- Cross-process locks: a send of an edition, a scheduled job.
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  // Review app and publishing (src/store/review.ts).
  `
  -- The current decision per post (edition × item × platform); absent = pending.
  CREATE TABLE review_posts (
    edition TEXT NOT NULL,
    item_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected')),
    format TEXT,
    caption TEXT,
    editor TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (edition, item_id, platform)
  ) WITHOUT ROWID;
  -- Every choice an editor made, in order (approve, reject, reset, caption).
  CREATE TABLE review_events (
    id INTEGER PRIMARY KEY,
    edition TEXT NOT NULL,
    item_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    action TEXT NOT NULL,
    caption TEXT,
    editor TEXT NOT NULL,
    at TEXT NOT NULL
  );
  CREATE INDEX review_events_post ON review_events (edition, item_id, platform);
  -- The publish queue: one row per post × publisher, keyed by a hash of the post.
  --   queued     to publish (also after a failed attempt that may be retried)
  --   sending    an attempt is under way; after a crash it is retried with the same key
  --   published  done: never attempted again
  --   failed     gave up after review.maxAttempts; an editor approves again to retry
  --   cancelled  the post was rejected or edited before it went out
  CREATE TABLE publish_queue (
    id INTEGER PRIMARY KEY,
    idem_key TEXT NOT NULL,
    publisher TEXT NOT NULL,
    edition TEXT NOT NULL,
    item_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    format TEXT NOT NULL,
    caption TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','sending','published','failed','cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    response TEXT,
    editor TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT,
    UNIQUE (idem_key, publisher)
  );
  CREATE INDEX publish_queue_state ON publish_queue (state);
  CREATE INDEX publish_queue_post ON publish_queue (edition, item_id, platform);
  -- Failed sign-ins per client address, for the login rate limit.
  CREATE TABLE login_failures (
    client TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX login_failures_client ON login_failures (client, at);
  `,
  // Scheduler (issue 6): one row per job × scheduled occurrence — UNIQUE, so the
  // row is also the proof an occurrence was handled (occurrence is NULL for a
  // manual run); one heartbeat row per daemon, for monitors.
  `
  CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurrence TEXT,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule','catch-up','run','manual')),
    outcome TEXT NOT NULL CHECK (outcome IN ('running','ok','failed','skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    pid INTEGER,
    host TEXT,
    started_at TEXT,
    finished_at TEXT,
    edition TEXT,
    counts TEXT,
    summary TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (job, occurrence)
  );
  CREATE INDEX job_runs_outcome ON job_runs (outcome);
  CREATE TABLE scheduler_heartbeats (
    instance TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL,
    beat_at TEXT NOT NULL,
    interval_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running','stopping','stopped')),
    jobs TEXT NOT NULL,
    running TEXT NOT NULL DEFAULT '[]'
  );
  `,
  // Editor accounts and server-side sessions (issue 10; src/store/editors.ts,
  // src/store/sessions.ts). A session row is what a cookie stands for: the cookie
  // carries "<id>.<verifier>" and only a SHA-256 of the verifier is stored, so a
  // copy of the store cannot be replayed as a cookie. Logout, `editors revoke`,
  // a password change and removing an editor set revoked_at: the cookie stops
  // working at once. Bootstrap sessions (BROADSHEET_EDITOR_PASSWORD, before any
  // account exists) have no editor_id and carry a tag of the password they used.
  `
  CREATE TABLE editors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('editor','admin')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE editor_sessions (
    id TEXT PRIMARY KEY,
    verifier_hash TEXT NOT NULL,
    editor_id INTEGER REFERENCES editors(id) ON DELETE SET NULL,
    editor_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('editor','admin')),
    bootstrap_tag TEXT,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ip_hash TEXT,
    user_agent TEXT,
    revoked_at INTEGER,
    revoked_reason TEXT
  ) WITHOUT ROWID;
  CREATE INDEX editor_sessions_editor ON editor_sessions (editor_id);
  CREATE INDEX editor_sessions_expiry ON editor_sessions (expires_at);
  `,
  // Social publishing (issue 18; src/review/publishers/*): a queue row is one post
  // on one platform. due_at: when it may go (NULL = at the next run for folder and
  // webhook; a social row without one waits for an editor to schedule it).
  // post_id / post_url: what the platform answered, shown in the gallery.
  `
  ALTER TABLE publish_queue ADD COLUMN due_at TEXT;
  ALTER TABLE publish_queue ADD COLUMN post_id TEXT;
  ALTER TABLE publish_queue ADD COLUMN post_url TEXT;
  CREATE INDEX publish_queue_due ON publish_queue (state, due_at);
  `,
  // Subscribers (issue 14; src/store/consent.ts, suppression.ts, signups.ts).
  // consent: how and when each reader agreed (append-only, survives edits of the
  //   reader; deleted only by `subscribers forget`); ip_hash is keyed, never the IP.
  // suppression: keyed hashes of addresses that must not be re-added without a
  //   fresh confirmation (forgotten readers: their address is gone, the hash stays).
  // signups: pending double opt-ins, until confirmed or expired (then purged).
  // confirm_sends: the confirmation email's own ledger — one per signup, sent once.
  // signup_hits: recent signup attempts per keyed IP / address hash, for rate limits.
  `
  CREATE TABLE consent (
    id INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('form','import','cli','preferences')),
    list TEXT,
    signup_at TEXT NOT NULL,
    confirmed_at TEXT,
    ip_hash TEXT,
    detail TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX consent_subscriber ON consent (subscriber_id);
  CREATE TABLE suppression (
    hash TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE signups (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT,
    locale TEXT,
    topics TEXT NOT NULL DEFAULT '[]',
    list TEXT NOT NULL,
    ip_hash TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    confirmed_at TEXT
  );
  CREATE INDEX signups_email ON signups (email);
  CREATE TABLE confirm_sends (
    signup_id INTEGER PRIMARY KEY REFERENCES signups(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('committed','sent','failed')),
    message_id TEXT NOT NULL,
    transport TEXT,
    response TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE signup_hits (
    key TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX signup_hits_key ON signup_hits (key, at);
  `,
  // Reader preferences (issue 14; /p/<token>, src/review/preferences.ts): the
  // editions a reader wants (JSON array of edition names; NULL = all) and a pause
  // (YYYY-MM-DD: nothing is sent before that day). The send ledger skips both.
  `
  ALTER TABLE subscribers ADD COLUMN editions TEXT;
  ALTER TABLE subscribers ADD COLUMN paused_until TEXT;
  `,
  // Mail events (issue 15): what happened to a message after it left (DSN
  // bounces, ARF complaints, mailto unsubscribes, ESP webhooks), attributed to a
  // reader by the VERP return path or the Message-ID. src/store/events.ts applies
  // the suppression policy; `broadsheet report` counts them.
  //   kind        delivered | deferred | bounce_hard | bounce_soft | complaint | unsubscribe | unknown
  //   source      inbound | imap | ses | postmark | sendgrid | mailgun
  //   external_id the provider's event id or the report's Message-ID: a repeat is ignored
  // inbound_messages: the raw source of each inbound message, deleted after
  //   inbound.keepRawDays; an 'unknown' one waits there for a human.
  // clicks: one row per followed /r/ link (subscriber_id only with analytics.perReader);
  //   visitor is a keyed hash of (IP, user agent, day), for unique counts without identity;
  //   scanner = 1 when the scanner filter judged it a link checker (kept, not counted).
  // opens: the optional tracking pixel (analytics.openPixel, off by default).
  `
  CREATE TABLE inbound_messages (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    mail_from TEXT,
    rcpt_to TEXT,
    size INTEGER NOT NULL,
    classified TEXT NOT NULL,
    raw BLOB
  );
  CREATE INDEX inbound_messages_received ON inbound_messages (received_at);
  CREATE INDEX inbound_messages_classified ON inbound_messages (classified, received_at);
  CREATE TABLE mail_events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('delivered','deferred','bounce_hard','bounce_soft','complaint','unsubscribe','unknown')),
    source TEXT NOT NULL,
    subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE SET NULL,
    edition TEXT,
    status TEXT,
    detail TEXT,
    external_id TEXT,
    inbound_id INTEGER REFERENCES inbound_messages(id) ON DELETE SET NULL,
    action TEXT,
    occurred_at TEXT NOT NULL,
    received_at TEXT NOT NULL
  );
  CREATE UNIQUE INDEX mail_events_external ON mail_events (source, external_id) WHERE external_id IS NOT NULL;
  CREATE INDEX mail_events_edition ON mail_events (edition, kind);
  CREATE INDEX mail_events_subscriber ON mail_events (subscriber_id, kind, occurred_at);
  CREATE INDEX sends_message_id ON sends (message_id);
  CREATE TABLE clicks (
    id INTEGER PRIMARY KEY,
    edition TEXT NOT NULL,
    story TEXT NOT NULL,
    subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE SET NULL,
    visitor TEXT NOT NULL,
    method TEXT NOT NULL,
    scanner INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL
  );
  CREATE INDEX clicks_edition ON clicks (edition, story, at);
  CREATE INDEX clicks_visitor ON clicks (visitor, at);
  CREATE TABLE opens (
    edition TEXT NOT NULL,
    visitor TEXT NOT NULL,
    subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE SET NULL,
    at TEXT NOT NULL
  );
  CREATE INDEX opens_edition ON opens (edition, at);
  `,
  // The edition report (issue 15, src/report/collect.ts): an edition's first
  // send time in one index seek (the start of its 48-hour click timeline; a
  // scan of the edition's rows at 1M readers otherwise), and events counted by
  // reader without reading the table; an edition's clicks read in one pass of
  // one index (stories, unique clickers and the hourly timeline together).
  `
  CREATE INDEX sends_edition_sent ON sends (edition, sent_at);
  CREATE INDEX mail_events_edition_reader ON mail_events (edition, kind, subscriber_id);
  CREATE INDEX clicks_report ON clicks (edition, scanner, at, story, subscriber_id, visitor);
  `,
  // Heartbeats of every long-running process (issue 17, ops: src/ops/heartbeat.ts):
  // daemons, workers and serve replicas on every host, one row per process.
  // Times are epoch ms; on PostgreSQL the database's clock writes them, so hosts
  // whose clocks differ still agree on a heartbeat's age. detail is JSON.
  `
  CREATE TABLE process_heartbeats (
    instance TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('daemon','worker','serve')),
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    beat_ms INTEGER NOT NULL,
    interval_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running','stopping','stopped')),
    detail TEXT
  );
  CREATE INDEX process_heartbeats_beat ON process_heartbeats (beat_ms);
  `,
  // Issue 17, web (serve replicas): a publish queue row claimed by one runner of
  // several (`serve` replicas and `publish` on a shared PostgreSQL store).
  // claimed_by names the runner, claim_until (epoch ms, database time) is when
  // another runner may take a row left in 'sending' over (its runner died).
  `
  ALTER TABLE publish_queue ADD COLUMN claimed_by TEXT;
  ALTER TABLE publish_queue ADD COLUMN claim_until INTEGER;
  CREATE INDEX publish_queue_claims ON publish_queue (state, claim_until);
  `,
  // The send fan-out (issue 17, src/fanout/, PostgreSQL stores): a ledger row is
  // claimed by one worker (sends.worker, sends.claimed_until in epoch ms of the
  // database's clock) before it is sent; what workers need to compose an
  // edition's messages without a shared disk is written once per edition
  // (send_payloads, JSON); and a global rate limit per transport is one GCRA row
  // (rate_buckets.tat_us: the theoretical arrival time, microseconds, DB clock).
  `
  ALTER TABLE sends ADD COLUMN worker TEXT;
  ALTER TABLE sends ADD COLUMN claimed_until INTEGER;
  CREATE TABLE send_payloads (
    edition TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE rate_buckets (
    name TEXT PRIMARY KEY,
    tat_us INTEGER NOT NULL
  );
  `,
];
