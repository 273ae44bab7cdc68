import type { Command } from 'commander';
import { registerBackup } from './backup.ts';
import { registerBuild } from './build.ts';
import { registerCheck } from './check.ts';
import { registerEditors } from './editors.ts';
import { registerInbound } from './inbound.ts';
import { registerIngest } from './ingest.ts';
import { registerMigrate } from './migrate.ts';
import { registerPreview } from './preview.ts';
import { registerPublish } from './publish.ts';
import { registerReport } from './report.ts';
import { registerRun } from './run.ts';
import { registerSchedule } from './schedule.ts';
import { registerSend } from './send.ts';
import { registerServe } from './serve.ts';
import { registerStatus } from './status.ts';
import { registerStore } from './store.ts';
import { registerSubscribers } from './subscribers.ts';
import { registerWorker } from './worker.ts';

/** One line per command: a new command is one file plus one line here. */
export const commands: ((program: Command) => void)[] = [
  registerCheck,
  registerBuild,
  registerIngest,
  registerRun,
  registerServe,
  registerEditors,
  registerPublish,
  registerSend,
  registerPreview,
  registerSubscribers,
  registerSchedule,
  registerStatus,
  registerBackup,
  registerInbound,
  registerReport,
  registerMigrate,
  registerWorker,
  registerStore,
];
