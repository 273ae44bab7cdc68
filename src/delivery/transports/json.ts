import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Transport, TransportFactory } from '../transport.ts';

/**
 * One JSON line per message (envelope, Message-ID and the raw RFC 5322 text)
 * appended to out/<edition>/messages.jsonl — like nodemailer's jsonTransport,
 * for inspection and for tools that post-process what would be sent.
 */
export const json: TransportFactory = ({ editionDir }): Transport => {
  mkdirSync(editionDir, { recursive: true });
  const file = join(editionDir, 'messages.jsonl');
  const fd = openSync(file, 'a');
  return {
    name: 'json',
    async send(msg) {
      const line = `${JSON.stringify({ messageId: msg.messageId, envelope: msg.envelope, raw: msg.raw.toString('utf8') })}\n`;
      msg.commit();
      // One write() of one buffer in append mode: a line is whole or absent.
      writeSync(fd, line);
      return {
        accepted: [msg.recipient],
        rejected: [],
        response: `appended to ${file}`,
        messageId: msg.messageId,
      };
    },
    async close() {
      closeSync(fd);
    },
  };
};
