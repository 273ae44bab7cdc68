import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Transport, TransportFactory } from '../transport.ts';

/**
 * One JSON line per message (envelope, Message-ID and the raw RFC 5322 text)
 * appended to out/<edition>/messages.jsonl — like nodemailer's jsonTransport,
 * for inspection and for tools that post-process what would be sent.
 */
export const json: TransportFactory = ({ editionDir }): Transport => {
  const file = join(editionDir, 'messages.jsonl');
  let fd: number | undefined; // opened on first send: a dry run leaves no file behind
  return {
    name: 'json',
    async send(msg) {
      if (fd === undefined) {
        mkdirSync(editionDir, { recursive: true });
        fd = openSync(file, 'a');
      }
      const line = `${JSON.stringify({ messageId: msg.messageId, envelope: msg.envelope, raw: msg.raw.toString('utf8') })}\n`;
      await msg.commit();
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
      if (fd !== undefined) closeSync(fd);
    },
  };
};
