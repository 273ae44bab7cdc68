import type { Command } from 'commander';

// `broadsheet inbound` (issue 15): the bounce/complaint/unsubscribe endpoint. Filled in by src/inbound/.
export function registerInbound(program: Command) {
  program
    .command('inbound')
    .description('receive bounces, complaints and mailto unsubscribes (SMTP/LMTP or IMAP)');
}
