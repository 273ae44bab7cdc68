import type { TransportFactory } from '../transport.ts';
import { json } from './json.ts';
import { outbox } from './outbox.ts';
import { smtp } from './smtp.ts';

/** One line per transport: a new transport is one file plus one line here. */
export const transports: Record<string, TransportFactory> = { outbox, smtp, json };
