import type { Command } from 'commander';

// `broadsheet report <edition>` (issue 15): an edition's delivery and engagement. Filled in by src/report/.
export function registerReport(program: Command) {
  program.command('report').description('an edition’s sends, bounces, complaints, unsubscribes and clicks');
}
