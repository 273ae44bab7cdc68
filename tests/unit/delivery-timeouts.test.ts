import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { messageTimeoutMs, smtpTimeouts } from '../../src/delivery/config.ts';
import { enhancedStatus, isInvalidName } from '../../src/delivery/transports/smtp-classify.ts';

describe('delivery time limits', () => {
  it('have documented defaults', () => {
    const d = configSchema.parse({}).delivery;
    expect(smtpTimeouts(d)).toEqual({
      connectionTimeoutMs: 30_000,
      greetingTimeoutMs: 30_000,
      socketTimeoutMs: 60_000,
      dataTimeoutMs: 600_000,
    });
    expect(messageTimeoutMs(d)).toBe(30_000 + 30_000 + 60_000 + 600_000 + 1000);
  });

  it('still honour the old single delivery.timeoutMs as the default of each, the new settings winning', () => {
    const d = configSchema.parse({ delivery: { timeoutMs: 5000, dataTimeoutMs: 90_000 } }).delivery;
    expect(smtpTimeouts(d)).toEqual({
      connectionTimeoutMs: 5000,
      greetingTimeoutMs: 5000,
      socketTimeoutMs: 5000,
      dataTimeoutMs: 90_000,
    });
    expect(messageTimeoutMs({ ...d, messageTimeoutMs: 1234 })).toBe(1234);
  });

  it('reject a limit too small to mean anything', () => {
    expect(() => configSchema.parse({ delivery: { greetingTimeoutMs: 5 } })).toThrow();
  });
});

describe('SMTP reply reading', () => {
  it('reads RFC 3463 enhanced status codes, only where the reply has one', () => {
    expect(enhancedStatus('550 5.1.1 No such user')).toEqual({ cls: 5, subject: 1 });
    expect(enhancedStatus('554 5.7.1 Spam')).toEqual({ cls: 5, subject: 7 });
    expect(enhancedStatus('452-4.2.2 Mailbox full')).toEqual({ cls: 4, subject: 2 });
    expect(enhancedStatus('554 Transaction failed')).toBeUndefined();
    expect(enhancedStatus('550 1.2.3.4 not an enhanced code')).toBeUndefined();
  });

  it('knows the RFC 6761 .invalid names', () => {
    expect(isInvalidName('mail.broadsheet.invalid')).toBe(true);
    expect(isInvalidName('INVALID.')).toBe(true);
    expect(isInvalidName('mail.invalid.example.com')).toBe(false);
    expect(isInvalidName('notinvalid')).toBe(false);
  });
});
