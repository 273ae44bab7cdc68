import { z } from 'zod';

// `inbound:` — broadsheet inbound (SMTP/LMTP listener, IMAP poller) and the bounce policy (issue 15).
export const inboundConfigSchema = z.strictObject({}).prefault({});
