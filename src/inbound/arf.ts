import type { EventKind } from '../store/events.ts';
import { type MimePart, parseFields } from './mime.ts';

// Abuse reports (RFC 5965 ARF: multipart/report; report-type=feedback-report)
// from feedback loops — Yahoo/AOL's CFL, Microsoft's JMRP, Comcast, Fastmail…
// The report part names the kind of complaint; the returned message (or its
// headers) carries what identifies the reader: our VERP Return-Path and the
// Message-ID of the digest. Recipients are often redacted, so the address is
// never used.

export interface ArfReading {
  kind: EventKind;
  feedbackType: string;
  userAgent?: string;
  /** The original envelope sender, when the report gives it (our VERP address). */
  originalMailFrom?: string;
}

/** Feedback types that are a reader's complaint; others (not-spam, auth-failure, dmarc) are kept, not acted on. */
const COMPLAINTS = new Set(['abuse', 'fraud', 'virus', 'other', 'opt-out', 'opt-out-list', 'complaint']);

export function readFeedbackReport(part: MimePart | undefined): ArfReading {
  if (!part) return { kind: 'complaint', feedbackType: 'abuse' };
  const f = parseFields(part.body.toString('utf8'));
  const feedbackType = (f.get('feedback-type') ?? 'abuse').trim().toLowerCase().slice(0, 40);
  const from = f.get('original-mail-from')?.trim().replace(/^<|>$/g, '');
  return {
    kind: COMPLAINTS.has(feedbackType) ? 'complaint' : 'unknown',
    feedbackType,
    userAgent: f.get('user-agent')?.slice(0, 100),
    originalMailFrom: from || undefined,
  };
}

/** Microsoft's older JMRP shape: a plain message with the reported message attached, marked by this header. */
export const isJmrpMessage = (m: MimePart | undefined) =>
  Boolean(m && (m.headers.get('x-hmxmroriginalrecipient') || m.headers.get('x-hmxmrooriginalrecipient')));
