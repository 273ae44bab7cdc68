import { analyticsCatalog } from './catalog-analytics.ts';
import { fanoutCatalog } from './catalog-fanout.ts';
import { inboundCatalog } from './catalog-inbound.ts';
import { opsCatalog } from './catalog-ops.ts';
import { reportCatalog } from './catalog-report.ts';
import { storeCopyCatalog } from './catalog-store-copy.ts';
import { storePgCatalog } from './catalog-store-pg.ts';
import { webSharedCatalog } from './catalog-web-shared.ts';
import { webhookCatalog } from './catalog-webhooks.ts';
import { type CatalogEntry, entry } from './entry.ts';

// The error catalog: stable codes (tests assert these, never wording), a human
// message and a hint that says how to fix it. New failures get a new entry here.
export type { CatalogEntry } from './entry.ts';

export const catalog = {
  USAGE: entry<{ detail: string }>({
    title: 'Bad usage',
    message: (p) => p.detail,
    hint: 'Run `broadsheet --help` or `broadsheet <command> --help`.',
    exit: 2,
  }),
  CONFIG_INVALID: entry<{ file: string; problems: string[] }>({
    title: 'Invalid configuration',
    message: (p) => `${p.file} has ${p.problems.length} problem(s):\n  ${p.problems.join('\n  ')}`,
    hint: 'Fix the fields named above; README.md § Configuration lists every field and its default.',
    exit: 2,
  }),
  CONFIG_UNREADABLE: entry<{ file: string }>({
    title: 'Configuration unreadable',
    message: (p) => `cannot read or parse ${p.file}`,
    hint: 'Check the path given to --config and that the file is valid YAML.',
    exit: 2,
  }),
  CONTENT_INVALID: entry<{ dir: string; count: number; files: number }>({
    title: 'Invalid content',
    message: (p) => `${p.count} problem(s) in ${p.files} file(s) under ${p.dir}`,
    hint: 'Each problem above names the file, line and field; fix them and run `broadsheet check` again.',
    exit: 1,
  }),
  CONTENT_DIR_MISSING: entry<{ dir: string }>({
    title: 'Content folder missing',
    message: (p) => `content folder ${p.dir} does not exist`,
    hint: 'Pass --content DIR or create content/articles and content/stats.',
    exit: 2,
  }),
  EDITION_NOT_FOUND: entry<{ id: string; available: string[] }>({
    title: 'Edition not found',
    message: (p) =>
      `no content for edition ${p.id}` +
      (p.available.length ? ` (editions with content: ${p.available.slice(0, 10).join(', ')})` : ''),
    hint: 'Use an id like daily-2025-12-10 whose day has articles, or omit --edition for the latest.',
    exit: 1,
  }),
  EDITION_EMPTY: entry<{ dir: string }>({
    title: 'No content',
    message: (p) => `no valid articles or stat sets in ${p.dir}`,
    hint: 'Add content (see README.md § Content) or run `broadsheet ingest <feed>`.',
    exit: 1,
  }),
  EDITION_ID_INVALID: entry<{ id: string; names: string[] }>({
    title: 'Bad edition id',
    message: (p) =>
      `edition id "${p.id}" is not <name>-<yyyy-mm-dd> with a configured name (${p.names.join(', ')})`,
    hint: 'Example: --edition daily-2025-12-10.',
    exit: 2,
  }),
  FEED_FETCH: entry<{ url: string; detail: string }>({
    title: 'Feed fetch failed',
    message: (p) => `could not fetch ${p.url}: ${p.detail}`,
    hint: 'Check the URL and the network; nothing was written.',
    exit: 1,
  }),
  FEED_INVALID: entry<{ source: string; detail: string }>({
    title: 'Feed malformed',
    message: (p) => `${p.source} is not a readable RSS 2.0, Atom 1.0 or JSON Feed 1.1 document: ${p.detail}`,
    hint: 'Open the feed in a validator; nothing was written.',
    exit: 1,
  }),
  FEED_UNREADABLE: entry<{ file: string; detail: string }>({
    title: 'Feed file unreadable',
    message: (p) => `cannot read feed file ${p.file}: ${p.detail}`,
    hint: 'Check the path (or pass an http(s):// URL); nothing was written.',
    exit: 1,
  }),
  JOB_UNKNOWN: entry<{ name: string; known: string[] }>({
    title: 'Unknown job',
    message: (p) => `no job named "${p.name}" in the configuration (jobs: ${p.known.join(', ') || 'none'})`,
    hint: 'List jobs under `jobs:` in broadsheet.config.yaml.',
    exit: 2,
  }),
  JOB_KIND_UNAVAILABLE: entry<{ name: string; kind: string }>({
    title: 'Job kind not available yet',
    message: (p) => `job "${p.name}" has kind "${p.kind}", which this version cannot run yet`,
    hint: 'Use kind build or digest, or upgrade Broadsheet.',
    exit: 2,
  }),
  TEMPLATE_ERROR: entry<{ file: string; line?: number; detail: string }>({
    title: 'Template error',
    message: (p) => `${p.file}${p.line ? `:${p.line}` : ''}: ${p.detail}`,
    hint: 'Fix the template at the file and line named above (templates/email/ holds the digest templates).',
    exit: 1,
  }),
  DIGEST_TOO_LARGE: entry<{ edition: string; bytes: number; maxBytes: number; stories: number }>({
    title: 'Digest too large',
    message: (p) =>
      `digest ${p.edition} is ${p.bytes} bytes with ${p.stories} stor${p.stories === 1 ? 'y' : 'ies'}, over email.maxBytes ${p.maxBytes} (Gmail clips HTML over 102,400 bytes)`,
    hint: 'Lower editions.<name>.maxArticles, shorten the content, or set email.overflow: drop to drop the lowest-priority stories.',
    exit: 1,
  }),
  DIGEST_SUBJECT_LONG: entry<{ edition: string; subject: string; chars: number; limit: number }>({
    title: 'Digest subject too long',
    message: (p) =>
      `the subject of ${p.edition} is ${p.chars} characters, over ~${p.limit}: phones cut it off ("${p.subject}")`,
    hint: 'Shorten the lead headline, or change email.subject (the template) or email.subjectWarnAt.',
    exit: 1,
  }),
  CARD_MISSING_GLYPH: entry<{ char: string; codePoint: string; card: string }>({
    title: 'Character not in any card font',
    message: (p) => `card ${p.card}: no font can draw "${p.char}" (${p.codePoint})`,
    hint: 'Replace the character in the content (or add a font that has it); cards never show a tofu box.',
    exit: 1,
  }),
  CARD_LAYOUT_MISSING: entry<{ kind: string; file: string }>({
    title: 'Card layout missing',
    message: (p) => `no layout for card kind "${p.kind}" (expected ${p.file})`,
    hint: 'Restore the layout file under templates/cards/ or remove the kind from cards.kinds in the config.',
    exit: 2,
  }),
  CARD_RENDER: entry<{ card: string; detail: string }>({
    title: 'Card failed to render',
    message: (p) => `card ${p.card}: ${p.detail}`,
    hint: 'The other cards were still written; run with DEBUG=1 for the cause.',
    exit: 1,
  }),
  CARD_OVERFLOW: entry<{ card: string; format: string; text: string; detail: string }>({
    title: 'Card text does not fit',
    message: (p) => `card ${p.card} (${p.format}): "${p.text}" ${p.detail}, even at the smallest size`,
    hint: 'Shorten that text in the content, or give the layout in templates/cards/ more room or a smaller minimum size (theme.json type).',
    exit: 1,
  }),
  CARD_PHOTO_FETCH: entry<{ url: string; reason: string }>({
    title: 'Card photo not fetched',
    message: (p) => `photo ${p.url} not fetched (${p.reason}); the card is drawn without it`,
    hint: "Check the article's image.src (an https URL serving a JPEG, PNG or WebP under cards.photos.maxBytes), or ship the photo as a file under content/; cards.photos.timeoutMs sets the wait.",
    exit: 1,
  }),
  STORE_UNAVAILABLE: entry<{ file: string }>({
    title: 'Store unavailable',
    message: (p) => `cannot open the SQLite store ${p.file}`,
    hint: 'Check the --store path, its folder permissions and free disk space.',
    exit: 1,
  }),
  STORE_TOO_NEW: entry<{ file: string; version: number; known: number }>({
    title: 'Store from a newer Broadsheet',
    message: (p) => `${p.file} has schema version ${p.version}; this Broadsheet knows ${p.known}`,
    hint: 'Upgrade Broadsheet, or point --store at another file.',
    exit: 2,
  }),
  SEND_IN_PROGRESS: entry<{ edition: string; pid: number; host: string }>({
    title: 'Send already running',
    message: (p) => `edition ${p.edition} is being sent by process ${p.pid} on ${p.host}`,
    hint: 'Wait for it to finish; a crashed sender on another host frees its lease after delivery.leaseSeconds.',
    exit: 1,
  }),
  SEND_NO_DIGEST: entry<{ edition: string }>({
    title: 'No digest to send',
    message: (p) => `edition ${p.edition} has no digest`,
    hint: 'Run `broadsheet build --edition <id>` first, or check templates/email/.',
    exit: 1,
  }),
  SEND_TRANSPORT_UNKNOWN: entry<{ name: string; known: string[] }>({
    title: 'Unknown transport',
    message: (p) => `no transport named "${p.name}" (transports: ${p.known.join(', ')})`,
    hint: 'Use --transport outbox, smtp or json.',
    exit: 2,
  }),
  SMTP_URL_MISSING: entry<Record<string, never>>({
    title: 'SMTP not configured',
    message: () => 'the smtp transport needs SMTP_URL',
    hint: 'Set SMTP_URL=smtp://user:pass@host:587 (or smtps://…:465) in the environment, or use --transport outbox.',
    exit: 2,
  }),
  SMTP_URL_INVALID: entry<{ detail: string }>({
    title: 'Bad SMTP_URL',
    message: (p) => `SMTP_URL is not usable: ${p.detail}`,
    hint: 'Use smtp://user:pass@host:port or smtps://user:pass@host:port (percent-encode special characters).',
    exit: 2,
  }),
  DKIM_KEY_UNREADABLE: entry<{ file: string }>({
    title: 'DKIM key unreadable',
    message: (p) => `cannot read a PEM private key from DKIM_PRIVATE_KEY_FILE ${p.file}`,
    hint: 'Point DKIM_PRIVATE_KEY_FILE at the PEM key whose public half is published at <selector>._domainkey.<domain>.',
    exit: 2,
  }),
  SUBSCRIBERS_CSV_UNREADABLE: entry<{ file: string }>({
    title: 'Subscriber file unreadable',
    message: (p) => `cannot read or parse ${p.file}`,
    hint: 'Give a UTF-8 CSV with a header row: email,name,locale,topics.',
    exit: 1,
  }),
  SUBSCRIBER_INVALID: entry<{ email: string; detail: string }>({
    title: 'Invalid subscriber',
    message: (p) => `${p.email}: ${p.detail}`,
    hint: 'Give a plain address like reader@example.com; names and locales on one line.',
    exit: 2,
  }),
  SUBSCRIBER_UNKNOWN: entry<{ email: string }>({
    title: 'Unknown subscriber',
    message: (p) => `no subscriber ${p.email}`,
    hint: 'List subscribers with `broadsheet subscribers list`.',
    exit: 1,
  }),
  // ── subscribers: signup, consent, privacy (issue 14; owned by the subscribers helper) ──
  SUBSCRIBER_SUPPRESSED: entry<{ email: string; reason: string }>({
    title: 'Address suppressed',
    message: (p) => `${p.email} is on the suppression list (${p.reason}) and cannot be added`,
    hint: 'The reader can sign up again through the signup form (/subscribe) and confirm by email; see README.md § Delivery → Reader links, consent and erasure.',
    exit: 1,
  }),
  // ── end subscribers (issue 14) ──
  PUBLISH_IN_PROGRESS: entry<{ pid: number; host: string }>({
    title: 'Publish already running',
    message: (p) => `the publish queue is being run by process ${p.pid} on ${p.host}`,
    hint: 'Wait for it to finish; a crashed runner frees its lease when it expires.',
    exit: 1,
  }),
  // ── social publishing (issue 18) ──
  PUBLISH_CHECK_FAILED: entry<{ platforms: string[] }>({
    title: 'Platform check failed',
    message: (p) => `${p.platforms.join(', ')}: the platform refused the credentials or could not be reached`,
    hint: 'Fix what `broadsheet publish --check` prints for each platform (its variables are in .env.example), then check again.',
    exit: 2,
  }),
  // ── end social publishing (issue 18) ──
  REVIEW_PORT_IN_USE: entry<{ host: string; port: number }>({
    title: 'Port in use',
    message: (p) => `cannot listen on ${p.host}:${p.port}: the address is in use`,
    hint: 'Pass another --port, or stop the other server.',
    exit: 1,
  }),
  SCHEDULE_NOTHING: entry<{ jobs: string[] }>({
    title: 'Nothing to schedule',
    message: (p) => `no job has a cron expression (jobs: ${p.jobs.join(', ') || 'none'})`,
    hint: 'Give a job `cron: "0 7 * * *"` under `jobs:` in broadsheet.config.yaml, or run jobs with `broadsheet run <job>`.',
    exit: 2,
  }),
  JOBS_DUPLICATE: entry<{ name: string }>({
    title: 'Duplicate job name',
    message: (p) => `two jobs are named "${p.name}"`,
    hint: 'Job names key leases and run records: give each job under `jobs:` its own name.',
    exit: 2,
  }),
  // ── SMTP faults and sender-level rejections (issue 10; owned by src/delivery) ──
  // Exit 2: every message would fail the same way (fix the setup, then send again).
  // Exit 1: the server is down or stuck; the next `broadsheet send` delivers what is left.
  SMTP_UNREACHABLE: entry<{ host: string; port: number; detail: string }>({
    title: 'SMTP server unreachable',
    message: (p) => `cannot reach the SMTP server ${p.host}:${p.port}: ${p.detail}`,
    hint: 'Check the host and port in SMTP_URL and that the mail server is up and reachable from here (each attempt is bounded by delivery.connectionTimeoutMs). Nothing was lost: the next `broadsheet send` delivers what is left.',
    exit: 1,
  }),
  SMTP_DNS: entry<{ host: string; detail: string }>({
    title: 'SMTP host name does not resolve',
    message: (p) => `the SMTP host name ${p.host} does not resolve: ${p.detail}`,
    hint: 'Fix the host name in SMTP_URL (smtp://user:pass@host:port); no message was sent and no reader changed.',
    exit: 2,
  }),
  SMTP_TIMEOUT: entry<{ host: string; port: number; phase: string; ms: number; setting: string }>({
    title: 'SMTP server stopped answering',
    message: (p) => `${p.host}:${p.port}: no ${p.phase} within ${p.ms} ms`,
    hint: (p) =>
      `The server is stuck or very slow: check it, or raise delivery.${p.setting} if it is merely slow. Nothing was lost: the next \`broadsheet send\` delivers what is left` +
      (p.setting === 'dataTimeoutMs'
        ? ' (the message whose end-of-data went unanswered stays "unconfirmed": the server most likely has it, so it is not sent twice).'
        : '.'),
    exit: 1,
  }),
  SMTP_UNAVAILABLE: entry<{ host: string; port: number; response: string }>({
    title: 'SMTP service not available',
    message: (p) => `${p.host}:${p.port} is not taking mail now: ${p.response}`,
    hint: 'The server answered 421 (closing, overloaded or rate-limiting us); lower delivery.connections or delivery.messagesPerSecond, and run `broadsheet send` again later: it delivers what is left.',
    exit: 1,
  }),
  SMTP_DROPPED: entry<{ host: string; port: number; detail: string }>({
    title: 'SMTP connection dropped',
    message: (p) => `${p.host}:${p.port} closed the connection in the middle of a message: ${p.detail}`,
    hint: 'Check the mail server (its logs, limits, restarts). Nothing was lost: the next `broadsheet send` delivers what is left.',
    exit: 1,
  }),
  SMTP_TLS: entry<{ host: string; port: number; detail: string }>({
    title: 'SMTP TLS failed',
    message: (p) => `TLS with ${p.host}:${p.port} failed: ${p.detail}`,
    hint: 'The certificate is untrusted (self-signed or private CA) or names another host. Use the host name on the certificate in SMTP_URL, trust a private CA with SMTP_URL …?ca=/path/to/ca.pem, or fix the server certificate (…?tlsRejectUnauthorized=false turns checking off: testing only). No reader changed.',
    exit: 2,
  }),
  SMTP_AUTH: entry<{ host: string; port: number; user: string; response: string }>({
    title: 'SMTP authentication failed',
    message: (p) => `${p.host}:${p.port} refused the login of "${p.user}": ${p.response}`,
    hint: 'Check the user and password in SMTP_URL (smtp://user:pass@host:port, percent-encode special characters). No reader changed.',
    exit: 2,
  }),
  SMTP_SENDER_REJECTED: entry<{ host: string; port: number; stage: string; response: string }>({
    title: 'SMTP server refused the sender',
    message: (p) => `${p.host}:${p.port} refused our mail at ${p.stage}: ${p.response}`,
    hint: 'This is about us, not the readers (nobody was marked bounced): check that email.from may send through this account, the account’s quota and reputation, the message size (email.maxBytes) and the server’s policy; then run `broadsheet send` again.',
    exit: 2,
  }),
  SMTP_PROTOCOL: entry<{ host: string; port: number; response: string }>({
    title: 'Not an SMTP server',
    message: (p) => `${p.host}:${p.port} does not speak SMTP: ${p.response}`,
    hint: 'Check the port in SMTP_URL (587 with smtp://, 465 with smtps://, 25).',
    exit: 2,
  }),
  SEND_TIMEOUT: entry<{ transport: string; ms: number }>({
    title: 'Transport did not finish a message',
    message: (p) =>
      `the ${p.transport} transport did not finish a message within ${p.ms} ms; it was closed and the run stopped`,
    hint: 'The deadline is the sum of the delivery.*TimeoutMs settings (or delivery.messageTimeoutMs). The message is left queued, or "unconfirmed" if it had passed its point of no return; the next `broadsheet send` delivers what is left.',
    exit: 1,
  }),
  SEND_LEASE_LOST: entry<{ edition: string; detail: string }>({
    title: 'Send lease lost',
    message: (p) => `stopped sending ${p.edition}: ${p.detail}`,
    hint: 'Another sender took this edition over (this one stalled longer than delivery.leaseSeconds) or the store could not be written. Check `broadsheet status`; once no other send runs, `broadsheet send` delivers what is left.',
    exit: 1,
  }),
  SEND_NO_SUBSCRIBERS: entry<{ store: string }>({
    title: 'No subscribers',
    message: (p) => `there are no subscribers in the store ${p.store}: nobody to send to`,
    hint: 'Add readers first — `broadsheet subscribers import content/subscribers.csv` (columns email,name,locale,topics) or `broadsheet subscribers add reader@example.com --name 陳大文` — with the same --store, then run `broadsheet send` again.',
    exit: 2,
  }),
  // ── end SMTP ──
  // ── Jobs: time limits, skips, daemon (issue 10; owned by src/scheduler, src/jobs) ──
  JOB_TIMEOUT: entry<{ job: string; elapsed: string; limit: string; abandoned: boolean }>({
    title: 'Job past its time limit',
    message: (p) =>
      `${p.job}: timeout after ${p.elapsed} (limit ${p.limit})` +
      (p.abandoned ? '; it did not stop when told to and was left behind' : ''),
    hint: (p) =>
      `Find what the run waited on in the log above (an SMTP server, a feed, the disk). If runs of ${p.job} legitimately take this long, raise \`timeout\` for it under \`jobs:\` in broadsheet.config.yaml (README § Operations › Jobs). The next occurrence runs as scheduled; a send picks up where it stopped.`,
    exit: 1,
  }),
  JOB_INTERRUPTED: entry<{ job: string; detail: string }>({
    title: 'Job interrupted',
    message: (p) => `${p.job}: ${p.detail}`,
    hint: 'The run is recorded failed and its lease released; `broadsheet run <job>` (or the next occurrence) runs it again, and a send resumes where it stopped. To let the daemon wait longer for running jobs on a stop, raise `broadsheet schedule --grace`.',
    exit: 1,
  }),
  SAMPLE_READERS_SMTP: entry<{ count: number; examples: string[]; transport: string }>({
    title: 'Sample readers in the store',
    message: (p) =>
      `refusing to deliver through ${p.transport}: the store holds ${p.count} reader(s) at reserved example domains (${p.examples.join(', ')}${p.count > p.examples.length ? ', …' : ''}), the sample readers from content/subscribers.csv`,
    hint: 'They were imported by an earlier outbox run (`npm start`). Remove them with `broadsheet subscribers remove <email>`, or start from a fresh store (--store), then import your real list with `broadsheet subscribers import <file>`.',
    exit: 2,
  }),
  // ── end jobs ──
  // ── Review app: limits, sessions, editor accounts (issue 10; owned by src/review) ──
  EDITOR_NAME_INVALID: entry<{ name: string }>({
    title: 'Invalid editor name',
    message: (p) => `"${p.name}" is not a usable editor name`,
    hint: 'Use 1–40 characters without control characters; the name is what the editor types at sign-in.',
    exit: 2,
  }),
  EDITOR_EXISTS: entry<{ name: string }>({
    title: 'Editor exists',
    message: (p) => `an editor named "${p.name}" already exists`,
    hint: 'Pick another name, change the password with `broadsheet editors passwd NAME`, or the role with `broadsheet editors role NAME admin|editor`.',
    exit: 2,
  }),
  EDITOR_UNKNOWN: entry<{ name: string }>({
    title: 'Unknown editor',
    message: (p) => `no editor named "${p.name}"`,
    hint: 'List accounts with `broadsheet editors list`.',
    exit: 2,
  }),
  EDITOR_LAST_ADMIN: entry<{ name: string; others: number }>({
    title: 'Last admin',
    message: (p) =>
      `"${p.name}" is the last admin and ${p.others} other editor account(s) remain: nobody could publish from the app`,
    hint: 'Make another account admin first (`broadsheet editors role NAME admin`), or remove the other accounts too.',
    exit: 2,
  }),
  EDITOR_PASSWORD_MISSING: entry<{ detail: string }>({
    title: 'No password given',
    message: (p) => p.detail,
    hint: 'Run on a terminal to be prompted, or pipe it in: `printf %s "$PW" | broadsheet editors add NAME --password-stdin`. Passwords are never taken as a command-line argument (they would show in `ps` and shell history).',
    exit: 2,
  }),
  EDITOR_PASSWORD_WEAK: entry<{ min: number; length: number }>({
    title: 'Password too short',
    message: (p) => `the password has ${p.length} character(s); at least ${p.min} are needed`,
    hint: 'Use a longer passphrase (several words are easier to type than symbols).',
    exit: 2,
  }),
  SESSION_UNKNOWN: entry<{ id: string }>({
    title: 'Unknown session',
    message: (p) => `no live session with id "${p.id}"`,
    hint: 'List live sessions with `broadsheet editors sessions`; a signed-out or expired session needs no revoking.',
    exit: 2,
  }),
  // ── end review ──
  // ── CLI conventions, branding (issue 10; owned by src/cli, src/config, src/logger.ts) ──
  ENV_FILE_INVALID: entry<{ file: string; problems: string[] }>({
    title: 'Malformed .env file',
    message: (p) => `${p.file} cannot be loaded:\n  ${p.problems.join('\n  ')}`,
    hint: 'Each line of .env is KEY=value or a # comment (see .env.example); fix the lines above or remove the file. Variables set in the real environment win over .env.',
    exit: 2,
  }),
  SENDER_SAMPLE_DOMAIN: entry<{ from: string; domain: string }>({
    title: 'Sample sender domain',
    message: (p) =>
      `a real transport is configured but the sender is still the sample's (${p.from}; domain ${p.domain})`,
    hint: 'Set publicUrl (or BROADSHEET_PUBLIC_URL) to your own site, or email.from / delivery.domain in broadsheet.config.yaml; README.md § Configuration shows how the sender is derived.',
    exit: 2,
  }),
  ENV_VALUE_INVALID: entry<{ name: string; value: string; allowed: string[] }>({
    title: 'Bad environment value',
    message: (p) => `${p.name}=${JSON.stringify(p.value)} is not one of ${p.allowed.join(', ')}`,
    hint: (p) =>
      `Set ${p.name} to one of ${p.allowed.join(', ')} (or unset it), in the environment or in .env.`,
    exit: 2,
  }),
  // ── end CLI ──
  // ── Storage, file system, input files (issue 10; owned by src/store, src/util, src/content) ──
  // File-system faults are mapped once, in util/atomic.ts (every file Broadsheet
  // writes) and store/db.ts (opening the store). Exit 1: the condition is the
  // machine's (a full disk, a read-only mount) and the next run works once it is
  // fixed; nothing half-written is left behind.
  FS_READ_ONLY: entry<{ path: string; dir: string }>({
    title: 'Read-only file system',
    message: (p) => `cannot write ${p.path}: the file system is read-only (EROFS)`,
    hint: (p) =>
      `${p.dir} is on a read-only mount: remount it read-write, or point --out / --store / --content (paths.* in the config) at a writable folder. Nothing was half-written.`,
    exit: 1,
  }),
  FS_PERMISSION: entry<{ path: string; dir: string; errno: string }>({
    title: 'Permission denied',
    message: (p) => `cannot write ${p.path}: permission denied (${p.errno})`,
    hint: (p) =>
      `Give the user running broadsheet write access to ${p.dir} (ls -ld; chown or chmod; lsattr for an immutable flag), or point --out / --store at a folder it owns. Nothing was half-written.`,
    exit: 1,
  }),
  FS_DISK_FULL: entry<{ path: string; dir: string; errno: string }>({
    title: 'Disk full',
    message: (p) =>
      `cannot write ${p.path}: no space left on the device (${p.errno === 'EDQUOT' ? 'disk quota exceeded, EDQUOT' : p.errno})`,
    hint: (p) =>
      `Free space on the disk holding ${p.dir} (df -h ${p.dir}; old out/<edition>/ folders can be rebuilt), then run the command again: nothing half-written was kept (a partial file is removed, a store transaction rolls back).`,
    exit: 1,
  }),
  STORE_CORRUPT: entry<{ file: string; detail: string }>({
    title: 'Store damaged or not a store',
    message: (p) => `${p.file} is not a readable SQLite store: ${p.detail}`,
    hint: (p) =>
      `If --store points at the wrong file, fix the path. Otherwise restore the last backup: stop the daemon, copy the backup over ${p.file}, delete ${p.file}-wal and ${p.file}-shm, start again and run \`broadsheet status\` to see it open (README.md § Backing up the store; make backups with \`broadsheet backup <file>\`).`,
    exit: 2,
  }),
  STORE_NOT_WRITABLE: entry<{ file: string; dir: string; detail: string }>({
    title: 'Store folder not writable',
    message: (p) => `cannot write the store ${p.file}: ${p.detail}`,
    hint: (p) =>
      `SQLite needs to create ${p.file}-wal and -shm beside the store: make ${p.dir} writable by the user running broadsheet (and not a read-only mount), or point --store (paths.store) at a writable folder.`,
    exit: 1,
  }),
  BACKUP_EXISTS: entry<{ file: string }>({
    title: 'Backup file exists',
    message: (p) => `${p.file} already exists`,
    hint: 'Choose a new file name (e.g. with the date), or pass --force to replace it.',
    exit: 2,
  }),
  BACKUP_FAILED: entry<{ file: string; store: string; detail: string }>({
    title: 'Backup failed',
    message: (p) => `could not back up ${p.store} to ${p.file}: ${p.detail}`,
    hint: 'Nothing was left at the target; check the folder has space and write access, then run `broadsheet backup` again.',
    exit: 1,
  }),
  SUBSCRIBERS_CSV_HEADER: entry<{ file: string; detail: string }>({
    title: 'Subscriber file has no usable header',
    message: (p) => `${p.file}: ${p.detail}`,
    hint: 'The first line must name the columns: email,name,locale,topics (only email is required; order is free). Nothing was imported.',
    exit: 2,
  }),
  STORE_MISSING: entry<{ file: string }>({
    title: 'No store',
    message: (p) => `there is no store at ${p.file}`,
    hint: 'Check --store (paths.store); a store is created by the first command that writes, e.g. `broadsheet subscribers import`.',
    exit: 2,
  }),
  // ── end storage ──
  // ── Test sends and previews (issue 13; owned by src/delivery/test-send.ts, src/cli/commands/preview.ts) ──
  TEST_SEND_ADDRESS: entry<{ address: string }>({
    title: 'Bad test address',
    message: (p) => `"${p.address}" is not one plain email address`,
    hint: 'Give one bare address, e.g. `broadsheet send --to editor@example.com` (no name, no brackets, no list).',
    exit: 2,
  }),
  TEST_SEND_REFUSED: entry<{ address: string; response: string }>({
    title: 'Test address refused',
    message: (p) => `the mail server refused ${p.address}: ${p.response}`,
    hint: 'Check the address; the server refused this recipient, not the message (no reader was changed).',
    exit: 1,
  }),
  TEST_SEND_FAILED: entry<{ address: string; detail: string }>({
    title: 'Test send failed',
    message: (p) => `the test message to ${p.address} was not sent: ${p.detail}`,
    hint: 'Try again; if it keeps failing, run `broadsheet send --to … --transport outbox` to check the message itself.',
    exit: 1,
  }),
  PREVIEW_LOCALE_UNKNOWN: entry<{ locale: string; known: readonly string[] }>({
    title: 'Unknown locale',
    message: (p) => `no digest locale "${p.locale}" (known: ${p.known.join(', ')})`,
    hint: (p) =>
      `Use --locale ${p.known.join(' or --locale ')}, or leave it out for the edition's own language.`,
    exit: 2,
  }),
  // ── end test sends and previews ──
  INTERNAL: entry<{ detail: string }>({
    title: 'Internal error',
    message: (p) => p.detail,
    hint: 'Run again with DEBUG=1 for a stack trace and report it.',
    exit: 1,
  }),
  // Each area of issue 15 keeps its entries in its own file (catalog-*.ts).
  ...inboundCatalog,
  ...webhookCatalog,
  ...analyticsCatalog,
  ...reportCatalog,
  // Issue 17: the PostgreSQL store.
  ...storePgCatalog,
  ...fanoutCatalog,
  ...opsCatalog,
  ...storeCopyCatalog,
  ...webSharedCatalog,
} as const;

export type ErrorCode = keyof typeof catalog;
export type ParamsOf<C extends ErrorCode> = (typeof catalog)[C] extends CatalogEntry<infer P> ? P : never;
