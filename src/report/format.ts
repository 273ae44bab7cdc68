import { textWidth } from '../email/text.ts';
import { localParts } from '../util/zoned.ts';
import type { EditionReport, ReportSummary } from './collect.ts';

// The text form of `broadsheet report`: aligned columns counted the way a
// terminal counts them (Chinese titles take two columns per character, see
// src/email/text.ts), numbers right-aligned with thousands separators.

/** Gmail's and Yahoo's bulk-sender limit for the complaint rate (2024 requirements). */
export const COMPLAINT_LIMIT = 0.003;

const num = (n: number) => n.toLocaleString('en-US');
export const pct = (r: number | null, digits = 1) => (r === null ? '—' : `${(r * 100).toFixed(digits)} %`);

/** Pad to `w` terminal columns (left-aligned text, or right-aligned numbers). */
export function padCols(s: string, w: number, right = false): string {
  const gap = ' '.repeat(Math.max(0, w - textWidth(s)));
  return right ? gap + s : s + gap;
}

/** Cut to at most `w` columns, with an ellipsis when cut. */
export function clip(s: string, w: number): string {
  if (textWidth(s) <= w) return s;
  let out = '';
  for (const ch of s) {
    if (textWidth(out + ch) > w - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** Rows of cells → aligned lines; `right` names the columns aligned right. */
export function table(rows: string[][], right: ReadonlySet<number>, indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, textWidth(c));
  return rows.map((r) =>
    (
      indent +
      r
        .map((c, i) => padCols(c, i === r.length - 1 && !right.has(i) ? 0 : widths[i]!, right.has(i)))
        .join('  ')
    ).trimEnd(),
  );
}

/** `2025-12-10 07:00` in the newsroom's zone. */
export function localTime(iso: string | null, tz: string): string {
  if (!iso) return '—';
  const p = localParts(Date.parse(iso), tz);
  const z = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${z(p.month)}-${z(p.day)} ${z(p.hour)}:${z(p.minute)}`;
}

const BARS = '▁▂▃▄▅▆▇█';
/** A one-line chart of the hourly clicks (blank hours as ·). */
export function sparkline(hours: number[]): string {
  const max = Math.max(0, ...hours);
  return hours.map((h) => (h === 0 ? '·' : BARS[Math.min(7, Math.floor((h / max) * 7.999))])).join('');
}

export function formatReport(r: EditionReport, tz: string): string {
  const out: string[] = [];
  out.push(`Edition ${r.edition}${r.title ? `  ${r.title}` : ''}`);
  out.push(`  first sent ${localTime(r.firstSentAt, tz)} (${tz})`);
  out.push('');
  const bySource = Object.entries(r.unsubscribed.bySource)
    .map(([k, v]) => `${k} ${num(v)}`)
    .join(', ');
  const complaint = r.rates.complaint;
  const delivery: string[][] = [
    [
      'sent',
      num(r.sent),
      r.inDoubt ? `incl. ${num(r.inDoubt)} in doubt after a crash (committed, counted as sent)` : '',
    ],
    [
      'delivered',
      num(r.delivered.count),
      r.delivered.basis === 'events'
        ? 'reported by the ESP'
        : 'estimate: sent − bounced (no ESP delivery events)',
    ],
    ['deferred', num(r.deferred.count), `ledger ${num(r.deferred.ledger)}, events ${num(r.deferred.events)}`],
    [
      'bounced hard',
      num(r.bounced.hard),
      r.bounced.ledgerFailed ? `incl. ${num(r.bounced.ledgerFailed)} refused at send time` : '',
    ],
    ['bounced soft', num(r.bounced.soft), `bounce rate ${pct(r.rates.bounce)}`],
    [
      'complained',
      num(r.complained),
      `${pct(complaint, 2)} of delivered${complaint !== null && complaint >= COMPLAINT_LIMIT ? ' — ABOVE the 0.3 % Gmail/Yahoo limit' : ''}`,
    ],
    [
      'unsubscribed',
      num(r.unsubscribed.count),
      `${pct(r.rates.unsubscribe, 2)}${bySource ? ` (${bySource})` : ''}`,
    ],
    ['suppressed', num(r.suppressed), 'not sent: reader no longer active'],
  ];
  if (r.ledger.queued) delivery.push(['still queued', num(r.ledger.queued), 'the send has not finished']);
  out.push('Delivery');
  out.push(...table(delivery, new Set([1])));
  if (r.unattributedEvents)
    out.push(`  (${num(r.unattributedEvents)} event(s) named no reader: kept, not counted above)`);
  out.push('');
  const c = r.clicks;
  out.push('Engagement');
  const basis =
    c.uniqueBasis === 'readers'
      ? 'per-reader links'
      : c.uniqueBasis === 'visitors'
        ? 'approximate: distinct visitors (analytics.perReader is off)'
        : c.uniqueBasis === 'mixed'
          ? 'readers where links were per reader, else distinct visitors (approximate)'
          : '';
  const eng: string[][] = [
    ['unique clickers', num(c.unique), basis],
    ['click-through', pct(c.ctr), 'unique clickers ÷ delivered'],
    ['clicks', num(c.total), `${num(c.scannerFiltered)} link-scanner click(s) filtered out`],
  ];
  if (r.opens)
    eng.push(['opens', num(r.opens.total), `${num(r.opens.unique)} unique (open pixel; undercounts)`]);
  out.push(...table(eng, new Set([1])));
  out.push('');
  if (c.stories.length) {
    out.push('Stories by unique clicks');
    out.push(
      ...table(
        [
          ['#', 'story', 'unique', 'clicks'],
          ...c.stories.map((s, i) => [String(i + 1), clip(s.title, 44), num(s.unique), num(s.clicks)]),
        ],
        new Set([0, 2, 3]),
      ),
    );
  } else out.push('Stories: no clicks recorded');
  out.push('');
  const total = r.timeline.hours.reduce((a, b) => a + b, 0);
  out.push(
    `Clicks per hour, first 48 h (${num(total)} in all; peak ${num(Math.max(0, ...r.timeline.hours))}/h)`,
  );
  out.push(`  0h ${sparkline(r.timeline.hours)} 48h`);
  return out.join('\n');
}

export function formatRecent(rows: ReportSummary[], tz: string): string {
  if (!rows.length) return 'no editions sent';
  const lines = table(
    [
      [
        'edition',
        'first sent',
        'sent',
        'delivered',
        'hard',
        'soft',
        'complaints',
        'unsubs',
        'clickers',
        'CTR',
      ],
      ...rows.map((r) => [
        r.edition,
        localTime(r.firstSentAt, tz),
        num(r.sent),
        `${num(r.delivered)}${r.deliveredBasis === 'estimate' ? '*' : ''}`,
        num(r.bouncedHard),
        num(r.bouncedSoft),
        num(r.complained),
        num(r.unsubscribed),
        num(r.uniqueClicks),
        pct(r.ctr),
      ]),
    ],
    new Set([2, 3, 4, 5, 6, 7, 8, 9]),
    '',
  );
  if (rows.some((r) => r.deliveredBasis === 'estimate'))
    lines.push('* estimate: sent − bounced (no ESP delivery events)');
  return lines.join('\n');
}
